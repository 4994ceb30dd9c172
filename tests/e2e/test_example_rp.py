"""The example relying party (examples/relying_party, "Demo Bank") signs a person in through the
hosted flow, in Chromium, from the README's ``make dev`` stack: its sign-in form → its backend
starts a transaction → the hosted page (consent in the chosen language, the live test camera
performing the challenge) → back to the bank → server-to-server redemption → signed in as the
enrolled subject. And the attacks a browser can make on that login are refused by the bank.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page

from devstack.seed import demo_face_png
from secureface.client import AdminClient
from secureface.encoding import b64url_encode
from tests.e2e.browser import READY_TIMEOUT_MS, screenshot, watch_console
from tests.e2e.live_camera import LiveCameras
from tests.helpers import audited_reason, database, past_liveness, start_login

pytestmark = pytest.mark.e2e
RESULT_TIMEOUT_MS = 60_000


def enroll_astronaut(stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, name: str) -> str:
    """A bank customer of their own (the memory of accepted bursts is per person, and the test
    camera replays the same pictures: a second login of one person would be a replay)."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.setenv(key, stack["env"][key])
    subject = f"{name}-{time.time_ns()}"
    photo = b64url_encode(demo_face_png())
    AdminClient(stack["urls"]["api"]).call(
        "POST", "/admin/enrollments", {"subject_id": subject, "images": [photo]}
    )
    return subject


def sign_in_with_face(
    stack: dict[str, Any], browser: Browser, live_cameras: LiveCameras, locale: str, user: str
) -> tuple[Page, list[str]]:
    """The whole login as a person makes it, keyboard and clicks only; returns the bank's page.
    A person the liveness check refuses (its false refusal rate is not zero) starts again from
    the bank's form (``tests.helpers.past_liveness``)."""

    def one() -> tuple[Page, list[str], list[str], str, str]:
        context = browser.new_context(viewport={"width": 1000, "height": 760})
        live_cameras.install(context, "astronaut")
        page = context.new_page()
        errors = watch_console(page)
        callbacks: list[str] = []
        page.on("request", lambda r: callbacks.append(r.url) if "/callback?" in r.url else None)
        page.goto(stack["urls"]["rp"])
        page.fill("#username", user)
        page.select_option("#locale", locale)
        page.click("form button[type=submit]")
        # The bank's backend started a transaction and sent the browser to the hosted page.
        page.wait_for_url(stack["urls"]["web"] + "/**", timeout=15_000)
        page.wait_for_selector("body[data-state=ready]", timeout=READY_TIMEOUT_MS)
        assert page.get_attribute("html", "lang") == locale
        assert "Demo Bank" in page.inner_text("#consent")
        assert "#token" not in page.url
        screenshot(page, f"example-rp-consent-{locale}")
        page.click("#start")
        page.wait_for_selector("#result:not([hidden])", timeout=RESULT_TIMEOUT_MS)
        decision = page.get_attribute("#result", "data-decision") or ""
        transaction = page.get_attribute("#result", "data-transaction-id")
        audit = database(stack)["audit"].find_one({"transaction_id": transaction, "kind": "verify"})
        return page, errors, callbacks, decision, audit["session_id"] if audit else ""

    page, errors, callbacks, decision, session_id = past_liveness(
        stack, one, lambda done: (done[3], done[4]), lambda done: done[0].context.close()
    )
    assert decision == "verified", (decision, session_id and audited_reason(stack, session_id))
    page.click("#continue")
    page.wait_for_url(stack["urls"]["rp"] + "/**", timeout=15_000)
    page.wait_for_selector("main[data-outcome]", timeout=15_000)
    (callback,) = callbacks
    assert set(parse_qs(urlsplit(callback).query)) == {"transaction_id", "state"}
    return page, errors


@pytest.mark.parametrize("locale", ["en", "hi"])
def test_the_example_bank_signs_the_enrolled_person_in_with_their_face(
    stack: dict[str, Any],
    browser: Browser,
    live_cameras: LiveCameras,
    monkeypatch: pytest.MonkeyPatch,
    locale: str,
) -> None:
    user = enroll_astronaut(stack, monkeypatch, f"customer-{locale}")
    started = time.monotonic()
    page, errors = sign_in_with_face(stack, browser, live_cameras, locale, user)
    screenshot(page, f"example-rp-signed-in-{locale}")
    assert page.get_attribute("main", "data-outcome") == "signed_in"
    assert page.inner_text("#signed-in-user") == user
    assert page.get_attribute("html", "lang") == locale
    # (the test camera's own pictures are refused by the bank's strict CSP: they are not ours)
    violations = [e for e in errors if "Content Security Policy" in e and "__livesim" not in e]
    assert not violations, violations
    print(f"\nsigned in ({locale}) in {time.monotonic() - started:.1f} s from the bank's form")


def test_a_callback_planted_from_another_browser_does_not_sign_anyone_in(
    stack: dict[str, Any], browser: Browser
) -> None:
    """Login CSRF: the attacker's own transaction (its state) opened in the victim's browser,
    which has a sign-in of its own pending, is refused by the bank before it redeems."""
    attacker = start_login(stack, "demo")
    victim = browser.new_context().new_page()
    victim.goto(stack["urls"]["rp"])
    victim.fill("#username", "victim")
    victim.click("form button[type=submit]")
    victim.wait_for_url(stack["urls"]["web"] + "/**", timeout=15_000)
    planted = (
        f"{stack['relying_parties']['demo-bank']['return_url']}"
        f"?transaction_id={attacker.transaction_id}&state={attacker.state}"
    )
    victim.goto(planted)
    assert victim.get_attribute("main", "data-outcome") == "csrf"
    victim.goto(stack["urls"]["rp"])
    assert victim.query_selector("#signed-in-user") is None
