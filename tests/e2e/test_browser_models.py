"""The browser app against the local stack, in Debian's Chromium driven by Playwright.

The page must verify the signed manifest, run the key exchange, download every model it runs
(the browser roles; the server serves no other) as encrypted segment ranges, check each SHA-256
against the manifest and create an onnxruntime-web session for each, cross-origin isolated, under
the production CSP, without freezing; and it must end on a clear message when it refuses a
rolled-back manifest or a tampered segment, or cannot reach the API.

Fixtures and helpers: tests/e2e/conftest.py and tests/e2e/browser.py.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Request, Route

from secureface.crypto.stream import segment_count
from secureface.models.catalog import load_catalog
from secureface.models.manifest import BROWSER_ROLES  # = frontend/src/config.js browserRoles
from secureface.models.segments import MAX_SEGMENTS_PER_RESPONSE, SEGMENT_SIZE
from tests.e2e.browser import (
    READY_TIMEOUT_MS,
    RECORD_LONG_TASKS,
    REPO,
    STORED,
    TIMELINE,
    api_request,
    bundle_sizes,
    screenshot,
    wait_for_outcome,
    watch_console,
)
from tests.helpers import start_login

pytestmark = pytest.mark.e2e


def hosted_url(stack: dict[str, Any]) -> str:
    """Where a relying party sends a person: the page with a fresh transaction's client token."""
    return start_login(stack).started.hosted_url


SEED_HIGH_WATER_MARK = """(version) => new Promise((ok, fail) => {
    const r = indexedDB.open("secureface", 1);
    r.onupgradeneeded = () => r.result.createObjectStore("state");
    r.onerror = () => fail(r.error);
    r.onsuccess = () => {
        const tx = r.result.transaction("state", "readwrite");
        tx.objectStore("state").put(version, "manifest_version");
        tx.oncomplete = () => { r.result.close(); ok(); };
        tx.onerror = () => fail(tx.error);
    };
})"""


def test_every_manifest_model_is_fetched_verified_and_loaded(
    stack: dict[str, Any], context: BrowserContext
) -> None:
    page = context.new_page()
    page.add_init_script(RECORD_LONG_TASKS)
    errors = watch_console(page)
    ranges: list[Request] = []
    page.on("request", lambda r: ranges.append(r) if "/segments?" in r.url else None)

    started = time.monotonic()
    page.goto(hosted_url(stack))
    outcome = wait_for_outcome(page, READY_TIMEOUT_MS)
    wall_ms = (time.monotonic() - started) * 1000
    screenshot(page, "browser-models-ready")
    assert outcome["state"] == "ready", f"{outcome['text']} / console: {errors}"

    # The page takes the roles it runs (detector, anti-spoof); the embedder and the face mesh
    # stay server-side.
    catalog = load_catalog(REPO / "model_versions.json")
    browser_models = [m for m in catalog.models if m.entry.role in BROWSER_ROLES]
    assert outcome["text"] == f"Ready: {len(browser_models)} face models verified and loaded."
    loaded = {m["name"]: m for m in json.loads(page.get_attribute("#models", "data-models") or "")}
    assert set(loaded) == {m.entry.name for m in browser_models}
    server_only = [m.entry.name for m in catalog.models if m.entry.role not in BROWSER_ROLES]
    assert {"sface", "facemesh"} <= set(server_only)  # embedder and face mesh stay server-side
    assert not any(f"/models/{name}/" in r.url for r in ranges for name in server_only)
    for model in browser_models:
        got, entry = loaded[model.entry.name], model.entry
        expected = {"version": entry.version, "sha256": entry.sha256, "size": entry.size}
        assert {key: got[key] for key in expected} == expected
        assert got["inputs"] == [model.details["input"]["name"]]  # loaded by onnxruntime-web
        # Every segment range of the model was requested, with the session header.
        mine = [r for r in ranges if f"/models/{entry.name}/{entry.version}/" in r.url]
        count = segment_count(entry.size, SEGMENT_SIZE)
        assert len(mine) == -(-count // MAX_SEGMENTS_PER_RESPONSE)
        assert all(r.headers.get("x-secureface-session") for r in mine)

    assert page.evaluate("crossOriginIsolated") is True
    progress = page.evaluate(
        "[document.getElementById('progress')].map((p) => [p.value, p.max])[0]"
    )
    assert progress[0] == progress[1] > sum(m.entry.size for m in browser_models)
    # Nothing but the manifest high-water mark is stored: never model bytes.
    assert page.evaluate(STORED) == {
        "dbs": ["secureface"], "keys": ["manifest_version"], "caches": [], "storage": 0,
    }  # fmt: skip
    assert not [e for e in errors if "Content Security Policy" in e], errors
    # Decryption and session creation run off the main thread: the page never freezes.
    longest_task_ms = max(page.evaluate("window.__longTasks"), default=0)
    assert longest_task_ms < 1000

    cold = {name: round(ms) for name, ms in page.evaluate(TIMELINE)}
    page.goto(hosted_url(stack))  # the same again (a new transaction), warm function instances
    assert wait_for_outcome(page, READY_TIMEOUT_MS)["state"] == "ready"
    warm = {name: round(ms) for name, ms in page.evaluate(TIMELINE)}
    total_mb = sum(m.entry.size for m in browser_models) / 1e6
    print(
        f"\nbrowser: {len(browser_models)} models, {total_mb:.1f} MB; ms since navigation start"
        f" (first load wall {wall_ms:.0f} ms; longest main-thread task {longest_task_ms} ms)"
        f"\n  cold functions: {cold}\n  warm functions: {warm}\n  dist/assets: {bundle_sizes()}"
    )


def test_a_rolled_back_manifest_is_refused(stack: dict[str, Any], context: BrowserContext) -> None:
    page = context.new_page()
    # Same origin, without the app: record a manifest version higher than the published one.
    page.goto(stack["urls"]["web"] + "/style.css")
    page.evaluate(SEED_HIGH_WATER_MARK, 1000)
    segments: list[str] = []
    page.on("request", lambda r: segments.append(r.url) if "/segments?" in r.url else None)

    page.goto(hosted_url(stack))
    outcome = wait_for_outcome(page, 15_000)
    screenshot(page, "browser-rollback")
    assert outcome["state"] == "error"
    assert "rollback" in outcome["text"]
    assert "< 1000" in outcome["text"]
    assert segments == []  # refused before any model is requested


def test_an_unreachable_api_ends_on_a_clear_message(
    stack: dict[str, Any], context: BrowserContext
) -> None:
    page = context.new_page()
    page.route(lambda url: api_request(stack, url), lambda route: route.abort("connectionrefused"))
    url = hosted_url(stack)  # the relying party's part, before the page's clock starts
    started = time.monotonic()
    page.goto(url)
    outcome = wait_for_outcome(page, 10_000)
    elapsed = time.monotonic() - started
    screenshot(page, "browser-api-down")
    assert outcome["state"] == "error"
    assert outcome["text"].startswith("The service cannot be reached")
    assert elapsed < 5


def test_a_segment_tampered_in_transit_is_refused(
    stack: dict[str, Any], context: BrowserContext
) -> None:
    def flip_one_bit(route: Route) -> None:
        response = route.fetch()
        body = bytearray(response.body())
        body[len(body) // 2] ^= 0x01
        route.fulfill(response=response, body=bytes(body))

    page = context.new_page()
    page.route("**/models/yunet/*/segments?*", flip_one_bit)
    page.goto(hosted_url(stack))
    outcome = wait_for_outcome(page, READY_TIMEOUT_MS)
    screenshot(page, "browser-tampered-segment")
    assert outcome["state"] == "error"
    assert "could not be verified (segment 0 failed authentication)" in outcome["text"]
    assert page.eval_on_selector("#model-table", "e => e.hidden") is True


def test_without_a_relying_partys_link_the_page_sends_people_to_start_there(
    stack: dict[str, Any], context: BrowserContext
) -> None:
    page = context.new_page()
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if api_request(stack, r.url) else None)
    page.goto(stack["urls"]["web"])
    page.wait_for_selector("#no-flow:not([hidden])", timeout=15_000)
    assert "start from there" in page.inner_text("#no-flow")
    assert page.get_attribute("#start-link", "href") == stack["urls"]["rp"]  # config.startUrl
    assert api_calls == []  # no token: nothing asked of the API, no model downloaded
    # A made-up or used-up token is refused by the API, and said so.
    page.goto(stack["urls"]["web"] + "/#token=" + "A" * 43)
    page.wait_for_selector("#no-flow:not([hidden])", timeout=15_000)
    assert "invalid, has expired or was already used" in page.inner_text("#no-flow")
    assert "#token" not in page.url  # the fragment is removed from the address bar at once
