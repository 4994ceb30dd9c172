"""The whole flow in Debian's Chromium, against the local stack.

A relying party starts a transaction and sends the person to the hosted page (its client token
in the URL fragment). The person reads the consent notice (the party's name, the purpose, in
English or Hindi) and agrees; the page opens the camera, guides the person (face box, hints),
opens the transaction's verify session whose signed transcript names the challenge, shows the
server's colours while asking for the moves and records a burst, sends it sealed under the
session key with the consent, shows the decision and offers the way back to the party, which
redeems the signed result. The server decides; each test checks what it decided, what the
person was told and what the relying party learns.

Two cameras. A live person: a test-only stream injected in place of the camera
(tests/e2e/live_camera.py: ``livesim.clips`` pose sequences) that performs the moves the page
asks for and is lit by the colour the page shows at that moment. A recording: Chromium's fake
camera playing a ``.y4m`` clip made in advance (tests/e2e/clips.py): a still photo; a head
turning both ways rendered from a photo; a 3-D head from a photo performing every move, lit by
another session's colours (a live session replayed). Whatever it shows, it cannot carry this
session's light, and it must be refused.

Lockout (5 failures in 180 s per subject or client) sees every browser as the client 127.0.0.1,
and most tests sign in as ``demo``: each test starts with neither counter holding a failure
(``tests/e2e/conftest.py``), so one test's refusals never lock the next one out.
"""

from __future__ import annotations

import base64
import itertools
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Response

from livesim import bursts
from livesim import people as live_people
from secureface.transactions.result import DECISIONS
from tests.conftest import launch_stack
from tests.e2e.browser import (
    READY_TIMEOUT_MS,
    STORED,
    Camera,
    api_request,
    bundle_sizes,
    dataset,
    screenshot,
    wait_for_outcome,
    watch_console,
)
from tests.e2e.conftest import Clips
from tests.e2e.live_camera import LiveCameras
from tests.helpers import (
    Login,
    client_for,
    past_liveness,
    replace_stored_model,
    start_login,
)

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
RESULT_TIMEOUT_MS = 60_000
Launch = Callable[..., Browser]
#: A live test camera: the cameras and the person to play.
Live = tuple[LiveCameras, str]

# WCAG 2 contrast ratio of each element's text against its effective background.
CONTRAST = """(selector) => {
    const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
        const f = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (e) => {
        for (; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length === 3 || c[3] > 0) return c;
        }
        return [255, 255, 255];
    };
    return [...document.querySelectorAll(selector)].filter((e) => e.offsetParent).map((e) => {
        const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(background(e))];
        return [e.id || e.tagName.toLowerCase(), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
    });
}"""


# What the page exposes for camera harnesses (docs/FRONTEND.md), and what it sent.
HARNESS_STATE = """() => ({light: document.documentElement.getAttribute("data-secureface-light"),
    move: document.documentElement.getAttribute("data-secureface-move")})"""
# Every change of those attributes, with its time (performance.now()), from the first script on:
# [time, light, move, move_start]. An init script, so the page's CSP does not apply to it.
RECORD_HARNESS = """
    window.__harness = [];
    new MutationObserver(() => {
        const r = document.documentElement;
        window.__harness.push([performance.now(), r.getAttribute("data-secureface-light"),
            r.getAttribute("data-secureface-move"), r.getAttribute("data-secureface-move-start")]);
    }).observe(document, {subtree: true, attributes: true, attributeFilter: [
        "data-secureface-light", "data-secureface-move", "data-secureface-move-start"]});
"""
FRAMES_SENT = """() => [...document.querySelectorAll("#result-details dt")]
    .filter((d) => d.textContent === "Frames sent")
    .map((d) => d.nextElementSibling.textContent)[0]"""


class Attempt:
    """One page of the app in a browser, with the API calls it made."""

    shots: set[str]

    def __init__(
        self,
        browser: Browser,
        stack: dict[str, Any],
        viewport: dict[str, int],
        live: Live | None = None,
        login: Login | None = None,
    ) -> None:
        context = browser.new_context(viewport=viewport)
        context.add_init_script(script=RECORD_HARNESS)
        if live:
            cameras, person = live
            cameras.install(context, person)
        self.page: Page = context.new_page()
        self.errors = watch_console(self.page)
        self.api = stack["urls"]["web"]  # one origin for the page and its API
        self.requests: list[Request] = []
        self.page.on(
            "request", lambda r: self.requests.append(r) if api_request(stack, r.url) else None
        )
        self.sessions: list[Response] = []
        self.page.on(
            "response",
            lambda r: self.sessions.append(r) if r.url == self.api + "/session" else None,
        )
        self.shots = set()
        self.login = login or start_login(stack)
        self.page.goto(self.login.started.hosted_url)

    def posts(self, path: str) -> list[dict[str, Any]]:
        return [
            json.loads(r.post_data or "{}")
            for r in self.requests
            if r.method == "POST" and r.url == self.api + path
        ]

    def challenge(self) -> dict[str, Any]:
        """The challenge of the last session opened, from its signed transcript."""
        body = self.sessions[-1].json()
        transcript = json.loads(base64.urlsafe_b64decode(body["transcript"] + "=="))
        challenge: dict[str, Any] = transcript["challenge"]
        return challenge

    def harness_log(self) -> list[tuple[float, str | None, str | None, float | None]]:
        """What the page exposed to camera harnesses, change by change (RECORD_HARNESS)."""
        log: list[list[Any]] = self.page.evaluate("window.__harness")
        return [(t, light, move, None if s is None else float(s)) for t, light, move, s in log]

    def start_with_keyboard(self) -> None:
        """Tab to the agree button, press Enter: no mouse."""
        for _ in range(8):
            self.page.keyboard.press("Tab")
            if self.page.evaluate("document.activeElement.id") == "start":
                break
        assert self.page.evaluate("document.activeElement.id") == "start"
        self.page.keyboard.press("Enter")

    def close(self) -> None:
        """Close the page's browser context (its camera with it)."""
        self.page.context.close()

    def result(self, timeout_ms: int = RESULT_TIMEOUT_MS) -> dict[str, str]:
        """Wait for the result screen; its decision, the server's hint and the words shown."""
        self.page.wait_for_selector("#result:not([hidden])", timeout=timeout_ms)
        outcome: dict[str, str] = self.page.eval_on_selector(
            "#result",
            "e => ({decision: e.dataset.decision, reason: e.dataset.reason, text: e.innerText})",
        )
        return outcome

    def frame_times(self) -> list[float]:
        times: list[float] = dataset(self.page, "#frame-stats").get("ms", [])
        return times


def open_app(
    browser: Browser,
    stack: dict[str, Any],
    viewport: dict[str, int] = PHONE,
    live: Live | None = None,
    login: Login | None = None,
) -> Attempt:
    """The hosted page, opened as a relying party sends people to it (a fresh transaction for
    ``demo`` at demo-bank unless ``login`` is given)."""
    attempt = Attempt(browser, stack, viewport, live, login)
    outcome = wait_for_outcome(attempt.page, READY_TIMEOUT_MS)
    assert outcome["state"] == "ready", f"{outcome['text']} / console: {attempt.errors}"
    return attempt


def with_camera(launch: Launch, camera: Camera, clip: Path | None = None) -> Browser:
    return launch(camera, clip=clip)


def follow_challenge(attempt: Attempt) -> tuple[set[str], set[str]]:
    """Watch the challenge until the result shows: the screen filled with the server's
    colours, a move asked for at a time; the colours and moves seen."""
    page = attempt.page
    lights, moves = set(), set()
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not page.is_visible("#result"):
        state = page.evaluate(HARNESS_STATE)
        if state["light"]:
            lights.add(state["light"])
            moves.add(state["move"])
            if len(moves) == 2 and "capture-guidance" not in attempt.shots:
                screenshot(page, "capture-guidance", readme=True)
                attempt.shots.add("capture-guidance")
        time.sleep(0.05)  # wait_for_function would need eval, which the page's CSP forbids
    return lights, moves


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def check_schedule_shown(
    log: list[tuple[float, str | None, str | None, float | None]], challenge: dict[str, Any]
) -> None:
    """The page showed exactly the challenge's colours and moves, in order, each colour changed
    on its scheduled time (never early: at most one animation frame of slack for the observer),
    each move announced ``move_ms`` after the one before, and everything cleared at the end."""
    shown = [entry for entry in log if entry[1] is not None or entry[2] is not None]
    assert shown, log
    colours: list[tuple[float, str]] = []
    for t, light, _, _ in shown:
        if light is not None and (not colours or colours[-1][1] != light):
            colours.append((t, light))
    assert [c for _, c in colours] == [c for c, _ in challenge["light"]], (colours, challenge)
    t0, start = colours[0][0], 0
    for (t, _), (_, duration) in zip(colours, challenge["light"], strict=True):
        assert start - 20 <= t - t0 <= start + 400, (t - t0, start, colours)
        start += duration
    moves: list[tuple[float, str]] = []
    for _, _, move, move_start in shown:
        if move is None or move_start is None:
            continue
        if not moves or moves[-1][0] != move_start:
            moves.append((move_start, move))
    assert [m for _, m in moves] == challenge["moves"], (moves, challenge)
    for (a, _), (b, _) in itertools.pairwise(moves):
        assert abs(b - a - challenge["move_ms"]) < 0.01, moves
    assert log[-1][1:] == (None, None, None), log[-1]


def test_consent_screen_is_keyboard_usable_labelled_and_readable_on_a_phone(
    stack: dict[str, Any], browser: Browser
) -> None:
    attempt = open_app(browser, stack)
    page = attempt.page
    screenshot(page, "consent", readme=True)
    assert "#token" not in page.url  # the client token left the address bar at once
    # Who asks, for what, what is processed, for how long, how to withdraw.
    consent = page.inner_text("#consent")
    assert "Demo Bank" in consent and "Nothing is stored" in consent
    assert page.inner_text("#notice-withdraw")
    assert page.get_by_role("button", name="I agree — start the camera").is_enabled()
    assert page.get_attribute("#status", "role") == "status"
    assert page.get_attribute("#guidance", "aria-live") == "polite"
    assert page.get_attribute("html", "lang") == "en"
    # People with photosensitive epilepsy are warned before anything flashes, and shown the
    # relying party's other way; the motion-only check only where the operator allowed it.
    assert "photosensitive epilepsy" in page.inner_text("#flash-warning")
    assert "at most 3 changes a second" in page.inner_text("#flash-warning")
    assert not page.is_visible("#start-motion")
    other_ways = stack["urls"]["rp"] + "/other-ways"
    assert page.get_attribute("#flash-alternative", "href") == other_ways
    # Phone width: nothing wider than the screen; readable contrast in light and dark schemes.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        ratios = page.evaluate(CONTRAST, "h1, h2, #consent p, #consent li, button, #status")
        assert ratios and all(ratio >= 4.5 for _, ratio in ratios), (scheme, ratios)
    assert page.evaluate("crossOriginIsolated") is True
    # Decline: back to the relying party, saying so, without a token in the URL.
    with page.expect_request(lambda r: r.url.startswith(stack["urls"]["rp"])) as went:
        page.click("#decline")
    back = went.value.url
    assert back.startswith(stack["relying_parties"]["demo-bank"]["return_url"] + "?")
    assert f"transaction_id={attempt.login.transaction_id}" in back
    assert f"state={attempt.login.state}" in back and "error=access_denied" in back
    assert attempt.login.token not in back
    assert not attempt.posts("/verify")
    assert not [e for e in attempt.errors if "Content Security Policy" in e], attempt.errors


def test_the_consent_notice_speaks_the_transactions_language(
    stack: dict[str, Any], browser: Browser
) -> None:
    attempt = open_app(browser, stack, login=start_login(stack, locale="hi"))
    page = attempt.page
    assert page.get_attribute("html", "lang") == "hi"
    consent = page.inner_text("#consent")
    assert "Demo Bank" in consent
    devanagari = sum(1 for c in consent if "\u0900" <= c <= "\u097f")
    assert devanagari > 200, consent[:300]  # the notice itself, not a translated title
    assert page.inner_text("#start") != "I agree — start the camera"
    # The switcher: English on request, and back.
    page.click("#languages [data-locale=en]")
    assert page.get_attribute("html", "lang") == "en"
    assert "Nothing is stored" in page.inner_text("#consent")
    assert not attempt.errors, attempt.errors


def test_the_enrolled_person_performing_the_challenge_is_verified(
    stack: dict[str, Any], browser: Browser, live_cameras: LiveCameras
) -> None:
    def one() -> tuple[Attempt, dict[str, str], set[str], set[str], float]:
        attempt = open_app(browser, stack, live=(live_cameras, "astronaut"))
        started = time.monotonic()
        attempt.start_with_keyboard()
        lights, moves = follow_challenge(attempt)
        result = attempt.result()
        return attempt, result, lights, moves, time.monotonic() - started

    def outcome(done: tuple[Attempt, dict[str, str], set[str], set[str], float]) -> tuple[str, str]:
        sent = done[0].posts("/verify")
        return done[1]["decision"], sent[0]["session_id"] if sent else ""

    attempt, result, lights, moves, elapsed = past_liveness(
        stack, one, outcome, lambda done: done[0].close()
    )
    page = attempt.page
    assert (result["decision"], result["reason"]) == ("verified", ""), result
    screenshot(page, "verified", readme=True)
    assert len(lights) >= 3 and "center" in moves and len(moves) >= 3, (lights, moves)
    check_schedule_shown(attempt.harness_log(), attempt.challenge())

    # The way back to the relying party: its return URL with the transaction and its state,
    # never the token; the party redeems the signed result server to server.
    login = attempt.login
    back = page.get_attribute("#continue", "data-return-url") or ""
    assert back == (
        f"{stack['relying_parties']['demo-bank']['return_url']}"
        f"?transaction_id={login.transaction_id}&state={login.state}"
    )
    (sent,) = attempt.posts("/verify")
    assert dataset(page, "#result")["sessionId"] == sent["session_id"]
    result_token = login.result()  # aud, nonce, subject, signature through the JWKS, verified
    assert (result_token.subject, result_token.assurance) == ("demo", "light")
    # What went over the wire: the session id and ciphertext only (frames and consent sealed);
    # the browser never named the person.
    assert set(sent) == {"session_id", "nonce", "ciphertext"}
    # (Not a substring test on the base64 text: 4 random base64 characters spell "demo" in about
    # one ciphertext in 20. The sealed bytes carry no readable JSON, and no field names anyone.)
    sealed = base64.urlsafe_b64decode(sent["ciphertext"] + "=" * (-len(sent["ciphertext"]) % 4))
    assert b'"demo"' not in sealed and b'"subject"' not in sealed and b'"frames"' not in sealed
    assert "demo" not in (sent["session_id"], sent["nonce"])
    sessions = attempt.posts("/session")
    assert [b["purpose"] for b in sessions] == ["models", "verify"]
    assert {b["client_token"] for b in sessions} == {login.token}
    # Nothing was kept: no frame, no key, only the manifest high-water mark.
    assert page.evaluate(STORED)["keys"] == ["manifest_version"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not [e for e in attempt.errors if "Content Security Policy" in e], attempt.errors
    frames = page.evaluate(FRAMES_SENT)
    assert int(frames) >= 60, frames  # at least 10 a second over the 6 s capture
    ready_ms = dataset(page, "#models").get("readyMs")
    times = attempt.frame_times()
    print(
        f"\nper frame (wasm; detector + anti-spoof before the capture, detector in it;"
        f" {len(times)} frames):"
        f" median {statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms"
    )
    print(
        f"verified in {elapsed:.1f} s after Start ({frames} frames sent);"
        f" page open -> ready {ready_ms} ms; dist/assets: {bundle_sizes()}"
    )


@pytest.mark.parametrize("clip", ["still", "animated", "replayed"])
def test_a_recording_played_as_the_camera_is_refused_and_the_party_learns_it(
    stack: dict[str, Any], launch: Launch, clips: Clips, clip: str
) -> None:
    video = {"still": clips.still, "animated": clips.challenge, "replayed": clips.replayed}[clip](
        "astronaut"
    )
    attempt = open_app(with_camera(launch, "clip", video), stack)
    page = attempt.page
    attempt.start_with_keyboard()
    result = attempt.result()
    if clip == "still":
        screenshot(page, "not-verified", readme=True)
    assert result["decision"] == "not_verified", result
    assert result["reason"] in ("", "moves_not_followed"), result  # never which signal refused
    assert "Not verified" in result["text"]
    assert "follow" in result["text"].lower() or "lit by the screen" in result["text"]
    assert page.evaluate("document.activeElement.id") == "result-title"
    # The relying party's other way in, and the way back; the party's result says so too.
    assert page.is_visible("#alternative") and page.is_visible("#continue")
    refused = attempt.login.result(accept=DECISIONS)
    assert (refused.decision, refused.verified) == ("not_verified", False)

    # Per-frame analysis in the worker (wasm): detector + anti-spoof in the guidance, the detector
    # alone on some frames of the capture (guidance goes on there).
    times = attempt.frame_times()
    assert len(times) >= 3
    print(
        f"\nper frame (wasm; detector + anti-spoof, then detector; {len(times)} frames):"
        f" median {statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms"
    )

    assert len(attempt.posts("/verify")) == 1


def test_a_different_live_person_is_not_verified(
    stack: dict[str, Any], browser: Browser, live_cameras: LiveCameras
) -> None:
    attempt = open_app(browser, stack, live=(live_cameras, "group1"))
    attempt.start_with_keyboard()
    result = attempt.result()
    screenshot(attempt.page, "not-matched")
    assert (result["decision"], result["reason"]) == ("not_verified", ""), result
    assert "could not verify you" in result["text"]


def test_a_locked_subject_is_told_to_try_later_without_a_retry(
    stack: dict[str, Any], browser: Browser, live_cameras: LiveCameras
) -> None:
    # Five failures for one subject from another client lock the subject for everyone.
    subject = f"locked-{time.time_ns()}"
    client = client_for(stack, source_ip="127.0.0.240")
    photo = live_people.astronaut()
    for seed in range(5):
        login = start_login(stack, subject)
        session = client.open_session(login.token)
        burst = bursts.animated_photo_burst(photo, session.transcript.challenge, seed=seed)
        verdict = client.verify(
            session, list(burst.frames), list(burst.times_ms), transaction_id=login.transaction_id
        )
        assert verdict.decision == "not_verified"
    attempt = open_app(
        browser, stack, live=(live_cameras, "astronaut"), login=start_login(stack, subject)
    )
    attempt.start_with_keyboard()
    result = attempt.result()
    screenshot(attempt.page, "locked")
    assert (result["decision"], result["reason"]) == ("locked", ""), result
    assert "try again in 30 minutes" in result["text"]
    assert attempt.page.is_visible("#alternative")
    assert attempt.login.result(accept=DECISIONS).decision == "locked"


def test_a_model_replaced_in_storage_stops_the_page_with_the_reason(
    tmp_path: Path, launch: Launch
) -> None:
    with launch_stack(tmp_path) as info:
        replace_stored_model(info)
        attempt = Attempt(with_camera(launch, "none"), info, PHONE, login=start_login(info))
        outcome = wait_for_outcome(attempt.page, READY_TIMEOUT_MS)
        screenshot(attempt.page, "refused-model-replaced")
    assert outcome["state"] == "error"
    assert "does not match the signed model manifest" in outcome["text"]
    assert attempt.page.is_disabled("#start")
    assert attempt.page.get_attribute("#models", "data-models") is None  # nothing was run


@pytest.mark.parametrize(
    ("camera", "words"),
    [("denied", "Camera access was refused"), ("none", "No camera was found")],
)
def test_a_camera_that_cannot_be_used_is_explained(
    stack: dict[str, Any], launch: Launch, camera: Camera, words: str
) -> None:
    attempt = open_app(with_camera(launch, camera), stack)
    attempt.start_with_keyboard()
    result = attempt.result(timeout_ms=15_000)
    screenshot(attempt.page, f"camera-{camera}")
    assert result["decision"] == "error"
    assert words in result["text"] and "Demo Bank" in result["text"]
    assert attempt.page.is_visible("#alternative")  # the relying party's other way in
    assert len(attempt.posts("/session")) == 1  # no session opened for an attempt
