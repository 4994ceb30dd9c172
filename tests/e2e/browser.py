"""Shared helpers of the browser tests: Debian's Chromium (never a downloaded browser), launch
flags with or without a fake camera, page probes, screenshots."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "frontend" / "dist"
ARTIFACTS = REPO / "test-artifacts"
README_SCREENSHOTS = REPO / "docs" / "screenshots"
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
Camera = Literal["clip", "denied", "none"]

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

TIMELINE = "performance.getEntriesByType('mark').map((m) => [m.name.split(':')[1], m.startTime])"


def chromium_args(camera: Camera | None = None, clip: Path | None = None) -> list[str]:
    """Launch flags: ``clip`` plays a ``.y4m`` file as the camera with permission granted;
    ``denied`` offers a camera but refuses the permission prompt; ``none`` has no camera."""
    if camera == "clip":
        if clip is None or not clip.is_absolute():
            raise ValueError("a fake camera needs the absolute path of a .y4m clip")
        return [
            *FLAGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={clip}",
        ]
    if camera == "denied":  # headless Chromium refuses the prompt without the fake UI flag
        return [*FLAGS, "--use-fake-device-for-media-stream"]
    return list(FLAGS)


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


def screenshot(page: Page, name: str, *, readme: bool = False) -> None:
    """Save the page under ``test-artifacts/``; with ``SECUREFACE_README_SCREENSHOTS=1`` also a
    small palette PNG for the README under ``docs/screenshots/`` (``readme=True`` shots only)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if readme and os.environ.get("SECUREFACE_README_SCREENSHOTS") == "1":
        from PIL import Image

        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as shot:
            small = shot.convert("RGB")
            if small.width > 480:
                small = small.resize((480, round(small.height * 480 / small.width)))
            palette = small.quantize(colors=128, method=Image.Quantize.MEDIANCUT)
            palette.save(README_SCREENSHOTS / f"{name}.png", optimize=True)


def bundle_sizes() -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted((DIST / "assets").iterdir())}


def dataset(page: Page, selector: str) -> dict[str, Any]:
    """An element's ``data-*`` attributes, with JSON values parsed."""
    raw: dict[str, str] = page.eval_on_selector(selector, "e => ({...e.dataset})")
    parsed: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    return parsed


def api_request(stack: dict[str, Any], url: str) -> bool:
    """Whether the page's request ``url`` went to the API: on the page's own origin (as under
    CloudFront), on one of the distribution's API paths (template ``CacheBehaviors``)."""
    from urllib.parse import urlsplit

    from devstack.template import edge_path_matches

    web = stack["urls"]["web"]
    if not url.startswith(web + "/"):
        return False
    return any(edge_path_matches(p, urlsplit(url).path) for p in _edge_paths())


@functools.cache
def _edge_paths() -> tuple[str, ...]:
    """The distribution's API paths (read once: every request of every page asks)."""
    from devstack.template import read_api

    return tuple(read_api(Path(__file__).resolve().parents[2] / "template.yaml").edge_paths)
