"""The light-answering test camera: a live person in front of the page, for Playwright.

:class:`LiveCameras` renders each person's pose sequences once per test session with
``livesim.clips.pose_sequences`` (``center`` with a little sway; ``left``, ``right``, ``up``,
``down`` out and back in 3-D, about 1.2 s each, with their light masks) and writes them as PNG
files with ``livesim.clips.write_pngs``. :meth:`LiveCameras.install` then gives a browser
context (1) an init script, tests/e2e/live_camera.js, that replaces ``getUserMedia`` with a
canvas stream, and (2) a route that serves those PNGs from the app's own origin under
``/__livesim/<person>/`` (allowed by the page's CSP ``img-src 'self'``; nothing is added to the
app). In the page the script plays the pose sequence of the move the page asks for, a reaction
time after it is asked, and lights every frame with the colour the page shows at that moment, as
the screen lights a face in front of it (``livesim.clips``: linear light, the mask's share,
``k`` from the screen's share of the face's light). Only a camera that sees the page's light in
real time can do that, which is what makes this test's person "live"; what a real person does
beyond it (their own timing, ambient light, a webcam's processing) is modelled by ``livesim``'s
bursts in the unit and integration tests, not here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Route

from livesim import people
from livesim.clips import pose_sequences, write_pngs

SCRIPT = Path(__file__).with_name("live_camera.js")
ROUTE = "/__livesim/"
#: Frames a second of the pose sequences (the camera stream itself runs at 30).
FPS = 15.0
#: Time from a move being asked for to the head starting it.
REACT_MS = 250

#: The screen's share of the light on the face: a laptop at full brightness, face close (the
#: page asks for both); bench/liveness.py gives the refusal rate at every share.
SCREEN_SHARE = 0.25


class LiveCameras:
    """Pose sequences rendered on first use into ``directory``, one folder per person."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._manifests: dict[str, dict[str, Any]] = {}

    def manifest(self, person: str) -> dict[str, Any]:
        """``write_pngs``'s index of ``person``'s sequences (rendered on first use, ~5 s)."""
        if person not in self._manifests:
            folder = self.directory / person
            photo = people.person(person)
            self._manifests[person] = write_pngs(pose_sequences(photo, FPS), folder, fps=FPS)
        return self._manifests[person]

    def install(self, context: BrowserContext, person: str) -> None:
        """Make ``person`` the camera of every page of ``context``."""
        manifest = self.manifest(person)
        folder = self.directory / person
        entries = [e for sequence in manifest["sequences"].values() for e in sequence]
        files = {e["image"] for e in entries} | {e["mask"] for e in entries}

        def serve(route: Route) -> None:
            name = route.request.url.rsplit("/", 1)[-1]
            if name in files:
                route.fulfill(path=str(folder / name), content_type="image/png")
            else:
                route.fulfill(status=404, body="")

        context.route(f"**{ROUTE}{person}/*", serve)
        width, height = manifest["size"]
        data = {
            "fps": FPS, "reactMs": REACT_MS, "share": SCREEN_SHARE, "width": width,
            "height": height, "base": f"{ROUTE}{person}/", "sequences": manifest["sequences"],
        }  # fmt: skip
        context.add_init_script(
            script=SCRIPT.read_text().replace("/*__LIVE_DATA__*/ null", json.dumps(data))
        )
