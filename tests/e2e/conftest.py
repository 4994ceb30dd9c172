"""Fixtures of the browser tests: one Playwright driver per module, browsers with or without a
fake camera (closed after each test), camera clips built once per session from real photos, and
the live test camera's pose sequences (tests/e2e/live_camera.py), rendered once per session.

Needs ``frontend/dist`` (``make frontend`` or ``cd frontend && npm run build``) and
``/usr/bin/chromium`` (``apt-get install chromium``); never downloads a browser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from facesynth import people
from tests.e2e.browser import CHROMIUM, DIST, Camera, chromium_args
from tests.e2e.clips import challenge_clip, replayed_session_clip, still_clip
from tests.e2e.live_camera import LiveCameras
from tests.helpers import clear_lockout

#: What every browser test shares with every other: the browser reaches the API from 127.0.0.1
#: (loopback has one address), and most tests sign in as ``demo``.
SHARED_LOCKOUT = ("client:127.0.0.1", "subject:demo")


@pytest.fixture(autouse=True)
def no_earlier_failures(request: pytest.FixtureRequest) -> None:
    """Each test starts with no failure counted for the shared client and subject, so one
    test's refusals (a recording refused, a live person refused once) never lock the next out.
    The lockout's own tests use addresses and subjects of their own (tests/integration)."""
    if "stack" in request.fixturenames:  # a test on a stack of its own shares nothing
        clear_lockout(request.getfixturevalue("stack"), *SHARED_LOCKOUT)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not (DIST / "index.html").exists():
        pytest.fail("frontend/dist is missing: run `make frontend` (npm run build in frontend/)")
    if not CHROMIUM.exists():
        pytest.fail(
            "/usr/bin/chromium is missing: apt-get install chromium (never playwright install)"
        )
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """A browser without a camera, shared by the module's tests."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=chromium_args()
    )
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


@pytest.fixture
def launch(playwright: Playwright) -> Iterator[Callable[..., Browser]]:
    """Start a browser with a given camera (``launch("clip", clip=path)``, ``"denied"``,
    ``"none"``); every browser started is closed after the test."""
    started: list[Browser] = []

    def start(camera: Camera, clip: Path | None = None) -> Browser:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=chromium_args(camera, clip)
        )
        started.append(browser)
        return browser

    try:
        yield start
    finally:
        for browser in started:
            browser.close()


class Clips:
    """Fake-camera clips, each rendered on first use (2-3 s) and kept for the session."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _clip(self, name: str, build: Callable[[Path], Path]) -> Path:
        path = self.directory / f"{name}.y4m"
        return path if path.exists() else build(path)

    def challenge(self, person: str) -> Path:
        """``person`` (facesynth.people) looking at the camera, turning left, right."""
        return self._clip(person, lambda p: challenge_clip(p, people.person(person)))

    def still(self, person: str) -> Path:
        """A still photo of ``person`` held to the camera."""
        return self._clip(f"{person}-still", lambda p: still_clip(p, people.person(person)))

    def replayed(self, person: str) -> Path:
        """A live session of ``person`` (3-D head, every move, another session's light) replayed."""
        return self._clip(
            f"{person}-replayed", lambda p: replayed_session_clip(p, people.person(person))
        )


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    return Clips(tmp_path_factory.mktemp("clips"))


@pytest.fixture(scope="session")
def live_cameras(tmp_path_factory: pytest.TempPathFactory) -> LiveCameras:
    return LiveCameras(tmp_path_factory.mktemp("live"))
