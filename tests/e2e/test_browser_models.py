"""The browser app against the local stack, in Debian's Chromium driven by Playwright.

The page must verify the signed manifest, run the key exchange, download every model as
encrypted segment ranges, check each SHA-256 against the manifest and create an onnxruntime-web
session for each, cross-origin isolated, under the production CSP, without freezing; and it must
end on a clear message when it refuses a rolled-back manifest or a tampered segment, or cannot
reach the API.

Needs ``frontend/dist`` (``make frontend`` or ``cd frontend && npm run build``) and
``/usr/bin/chromium`` (``apt-get install chromium``); never downloads a browser.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, sync_playwright

from secureface.crypto.stream import segment_count
from secureface.models.catalog import load_catalog
from secureface.models.delivery import MAX_SEGMENTS_PER_RESPONSE, SEGMENT_SIZE

pytestmark = pytest.mark.e2e
BROWSER_ROLES = ("detector", "antispoof")  # frontend/src/config.js DEFAULTS.browserRoles
REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "frontend" / "dist"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT_MS = 60_000

# Main-thread tasks over 50 ms, recorded from the first script on.
RECORD_LONG_TASKS = """
    window.__longTasks = [];
    new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push(Math.round(e.duration));
    }).observe({ type: "longtask", buffered: true });
"""

# Everything the origin has stored: databases, keys of the app's store, caches, web storage.
STORED = """async () => {
    const request = (r) => new Promise((ok, fail) => {
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
    });
    const db = await request(indexedDB.open("secureface"));
    const keys = await request(db.transaction("state").objectStore("state").getAllKeys());
    db.close();
    return {
        dbs: (await indexedDB.databases()).map((d) => d.name),
        keys,
        caches: await caches.keys(),
        storage: localStorage.length + sessionStorage.length,
    };
}"""

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

TIMELINE = "performance.getEntriesByType('mark').map((m) => [m.name.split(':')[1], m.startTime])"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not (DIST / "index.html").exists():
        pytest.fail("frontend/dist is missing: run `make frontend` (npm run build in frontend/)")
    if not CHROMIUM.exists():
        pytest.fail(
            "/usr/bin/chromium is missing: apt-get install chromium (never playwright install)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test (empty IndexedDB)."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    try:
        yield context
    finally:
        context.close()


def watch_console(page: Page) -> list[str]:
    """Collect console errors (CSP violations included) and uncaught exceptions."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def wait_for_outcome(page: Page, timeout_ms: int) -> dict[str, str]:
    """Wait until the page is ready or has failed (a spinner never passes); returns the status."""
    page.wait_for_selector(
        "#status[data-state='ready'], #status[data-state='error']", timeout=timeout_ms
    )
    status: dict[str, str] = page.eval_on_selector(
        "#status", "e => ({state: e.dataset.state, text: e.textContent})"
    )
    return status


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def bundle_sizes() -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted((DIST / "assets").iterdir())}


def test_every_manifest_model_is_fetched_verified_and_loaded(
    stack: dict[str, Any], context: BrowserContext
) -> None:
    page = context.new_page()
    page.add_init_script(RECORD_LONG_TASKS)
    errors = watch_console(page)
    ranges: list[Request] = []
    page.on("request", lambda r: ranges.append(r) if "/segments?" in r.url else None)

    started = time.monotonic()
    page.goto(stack["urls"]["web"])
    outcome = wait_for_outcome(page, READY_TIMEOUT_MS)
    wall_ms = (time.monotonic() - started) * 1000
    screenshot(page, "browser-models-ready")
    assert outcome["state"] == "ready", f"{outcome['text']} / console: {errors}"

    # The page takes the roles it runs (detector, anti-spoof); the embedder stays server-side.
    catalog = load_catalog(REPO / "model_versions.json")
    browser_models = [m for m in catalog.models if m.entry.role in BROWSER_ROLES]
    assert outcome["text"] == f"{len(browser_models)} models verified and loaded."
    loaded = {m["name"]: m for m in json.loads(page.get_attribute("#models", "data-models") or "")}
    assert set(loaded) == {m.entry.name for m in browser_models}
    assert not any("/models/sface/" in r.url for r in ranges)
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
    page.reload()  # the same again, with warm function instances
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

    page.goto(stack["urls"]["web"])
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
    page.route(stack["urls"]["api"] + "/**", lambda route: route.abort("connectionrefused"))
    started = time.monotonic()
    page.goto(stack["urls"]["web"])
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
    page.goto(stack["urls"]["web"])
    outcome = wait_for_outcome(page, READY_TIMEOUT_MS)
    screenshot(page, "browser-tampered-segment")
    assert outcome["state"] == "error"
    assert "could not be verified (segment 0 failed authentication)" in outcome["text"]
    assert page.eval_on_selector("#model-table", "e => e.hidden") is True
