"""Real photographs of different people, all shipped inside packages (nothing is downloaded).

- ``astronaut``: scikit-image ``data.astronaut()`` (Eileen Collins, NASA, public domain).
- ``other_person``, ``turned`` and the five faces of ``group``: crops of the MIT
  ``@vladmandic/face-api`` demo photos in tests/data/faces (README there). The group faces are
  cut out of ``group.jpg`` around each face and enlarged 2x (bicubic) so that each picture holds
  exactly one whole face of a usable size (eye distance 70-90 px).

Measured with YuNet (yaw cue of :mod:`secureface.face.pose`): astronaut -0.06, other_person
-0.01 (but her landmarks are unstable: her head is rolled and looking down), turned -0.42,
group faces 0 to 4: -0.16, +0.04, +0.48, -0.22, +0.15.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image

from secureface.face import decode_image
from secureface.face.inference import RGBImage

FACES = Path(__file__).resolve().parents[2] / "tests" / "data" / "faces"

#: Crop boxes (left, top, right, bottom) of the five faces in ``group.jpg`` (960 x 699).
GROUP_BOXES: tuple[tuple[int, int, int, int], ...] = (
    (470, 30, 726, 286),  # 0: yaw -0.16
    (77, 350, 395, 668),  # 1: frontal (+0.04)
    (212, 140, 478, 406),  # 2: turned (+0.48)
    (641, 154, 863, 376),  # 3: yaw -0.22 (a tighter crop: a neighbour is close)
    (314, 0, 556, 231),  # 4: yaw +0.15
)


@cache
def _read(name: str) -> RGBImage:
    return decode_image((FACES / name).read_bytes())


def astronaut() -> RGBImage:
    """scikit-image's astronaut, 512 x 512, one frontal face (eye distance 44 px)."""
    return np.ascontiguousarray(skimage.data.astronaut())


def other_person() -> RGBImage:
    """A different woman, 414 x 411, one face (tests/data/faces/other-person.jpg)."""
    return _read("other-person.jpg").copy()


def turned() -> RGBImage:
    """A woman with her head turned toward her own right (yaw cue -0.42)."""
    return _read("turned.jpg").copy()


def group() -> RGBImage:
    """Five different people in one photo (tests/data/faces/group.jpg)."""
    return _read("group.jpg").copy()


def group_face(index: int) -> RGBImage:
    """The ``index``-th face of ``group.jpg`` (see :data:`GROUP_BOXES`), cropped, enlarged 2x."""
    picture = Image.fromarray(_read("group.jpg")).crop(GROUP_BOXES[index])
    enlarged = picture.resize((picture.width * 2, picture.height * 2), Image.Resampling.BICUBIC)
    return np.ascontiguousarray(np.asarray(enlarged, dtype=np.uint8))


#: People whose rendered head turns keep their identity (SFace cosine >= 0.5 to the frontal
#: frame) and whose frontal yaw is within +-0.25: used for genuine sequences.
FRONTAL = ("astronaut", "group1", "group0")


def person(name: str) -> RGBImage:
    """A picture by name: ``astronaut``, ``other_person``, ``turned`` or ``group0``..``group4``."""
    if name.startswith("group"):
        return group_face(int(name.removeprefix("group")))
    loaders = {"astronaut": astronaut, "other_person": other_person, "turned": turned}
    return loaders[name]()
