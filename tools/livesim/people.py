"""Real photographs of different people, all shipped inside packages (nothing is downloaded).

- ``astronaut``: scikit-image ``data.astronaut()`` (Eileen Collins, NASA, public domain).
- ``other_person``, ``group`` and its five faces: the MIT ``@vladmandic/face-api`` demo photos
  kept in tests/data/faces (README there); each group face is cut out and enlarged 2x.
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
        return np.ascontiguousarray(np.asarray(picture.convert("RGB"), dtype=np.uint8))


def astronaut() -> RGB:
    """scikit-image's astronaut, 512 x 512, one frontal face."""
    return np.ascontiguousarray(skimage.data.astronaut())


def other_person() -> RGB:
    """A different woman (tests/data/faces/other-person.jpg)."""
    return _read("other-person.jpg").copy()


def group() -> RGB:
    """Five different people in one photo (tests/data/faces/group.jpg)."""
    return _read("group.jpg").copy()


def group_face(index: int) -> RGB:
    """Face ``index`` (0-4) of the group photo, cut out and enlarged 2x (bicubic)."""
    left, top, right, bottom = GROUP_BOXES[index]
    crop = Image.fromarray(group()).crop((left, top, right, bottom))
    size = (2 * (right - left), 2 * (bottom - top))
    return np.asarray(crop.resize(size, Image.Resampling.BICUBIC), dtype=np.uint8)
