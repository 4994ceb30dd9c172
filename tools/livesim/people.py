"""Real photographs of different people, all shipped inside packages (nothing is downloaded).

- ``astronaut``: scikit-image ``data.astronaut()`` (Eileen Collins, NASA, public domain).
- ``other_person`` and the five faces of ``group``: the MIT ``@vladmandic/face-api`` demo photos
  kept in tests/data/faces (read by path; README there). Each group face is cut out of
  ``group.jpg`` around one face and enlarged 2x (bicubic), so that each picture holds exactly
  one whole face of a usable size.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import numpy as np
import skimage.data
from numpy.typing import NDArray
from PIL import Image

FACES = Path(__file__).resolve().parents[2] / "tests" / "data" / "faces"
RGB = NDArray[np.uint8]

#: Crop boxes (left, top, right, bottom) of the five faces in ``group.jpg`` (960 x 699).
GROUP_BOXES: tuple[tuple[int, int, int, int], ...] = (
    (470, 30, 726, 286),
    (77, 350, 395, 668),
    (212, 140, 478, 406),
    (641, 154, 863, 376),
    (314, 0, 556, 231),
)


@cache
def _read(name: str) -> RGB:
    with Image.open(io.BytesIO((FACES / name).read_bytes())) as picture:
        image = np.ascontiguousarray(np.asarray(picture.convert("RGB"), dtype=np.uint8))
    image.flags.writeable = False
    return image


def astronaut() -> RGB:
    """scikit-image's astronaut, 512 x 512, one frontal face."""
    return np.ascontiguousarray(skimage.data.astronaut())  # type: ignore[no-untyped-call]


def other_person() -> RGB:
    """A different woman (tests/data/faces/other-person.jpg)."""
    return _read("other-person.jpg").copy()


def group() -> RGB:
    """Five different people in one photo (tests/data/faces/group.jpg)."""
    return _read("group.jpg").copy()


def group_face(index: int) -> RGB:
    """Face ``index`` (0-4) of the group photo, cut out and enlarged 2x (bicubic)."""
    left, top, right, bottom = GROUP_BOXES[index]
    crop = Image.fromarray(_read("group.jpg")).crop((left, top, right, bottom))
    size = (2 * (right - left), 2 * (bottom - top))
    return np.ascontiguousarray(np.asarray(crop.resize(size, Image.Resampling.BICUBIC), np.uint8))


def person(name: str) -> RGB:
    """A photo by name: ``astronaut``, ``other_person`` or ``group0`` .. ``group4``."""
    if name.startswith("group"):
        return group_face(int(name.removeprefix("group")))
    return {"astronaut": astronaut, "other_person": other_person}[name]()
