"""The light-answering test camera: pose sequences rendered once per person, as an init script.

:func:`init_script` returns JavaScript for ``BrowserContext.add_init_script``: tests/e2e/
live_camera.js with the person's pose sequences (``center`` sway, and out-and-back ``left``,
``right``, ``up``, ``down``, rendered in 3-D by ``livesim.head``) and their head masks as data
URLs. In the page, the script lights each frame with the colour the page shows at that moment,
as a face in front of the screen is lit. Only a camera that sees the page's light in real time
can do that, which is what makes this test's person "live".
"""

from __future__ import annotations

import base64
import io
import json
import math
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from livesim.head import HeadModel
from livesim.motion import minimum_jerk

SCRIPT = Path(__file__).with_name("live_camera.js")
FPS = 15
#: Peak of each move, degrees (yaw for left/right, pitch for up/down), and its duration.
PEAKS = {"left": (28.0, 0.0), "right": (-28.0, 0.0), "up": (0.0, 20.0), "down": (0.0, -20.0)}
MOVE_MS = 1000
REACT_MS = 250
SCREEN_SHARE = 0.2


def _data_url(image: np.ndarray, fmt: str) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


def _frame(head: HeadModel, yaw: float, pitch: float) -> list[str]:
    rgb, mask, facing = head.render(yaw, pitch)
    light = np.clip(np.asarray(mask) * np.asarray(facing) * 255, 0, 255).astype(np.uint8)
    return [_data_url(np.asarray(rgb), "JPEG"), _data_url(np.stack([light] * 3, axis=-1), "PNG")]


@cache
def init_script(person: str) -> str:
    """The init script for ``person`` (a name of ``livesim.people``)."""
    from livesim import people

    photo = people.astronaut() if person == "astronaut" else people.group_face(int(person[-1]))
    head = HeadModel.from_photo(photo)
    count = round(MOVE_MS / 1000 * FPS)
    sequences = {
        "center": [_frame(head, 1.5 * math.sin(i), 1.0 * math.cos(i)) for i in range(6)],
    }
    for move, (yaw, pitch) in PEAKS.items():
        levels = [minimum_jerk(2 * i / count) if i < count / 2 else minimum_jerk(2 - 2 * i / count)
                  for i in range(count + 1)]  # fmt: skip
        sequences[move] = [_frame(head, yaw * lv, pitch * lv) for lv in levels]
    width, height = Image.open(
        io.BytesIO(base64.b64decode(sequences["center"][0][0].split(",")[1]))
    ).size
    data = {"fps": FPS, "reactMs": REACT_MS, "share": SCREEN_SHARE, "width": width,
            "height": height, "sequences": sequences}  # fmt: skip
    return SCRIPT.read_text().replace("/*__LIVE_DATA__*/ null", json.dumps(data))
