"""Challenge sequences, one frame per step, genuine and attacks. Deterministic (``seed``), each
under 0.3 s on this machine.

A step is ``center``, ``turn_left`` or ``turn_right``; ``turn_left`` means the person turns their
head toward their OWN left, which in the unmirrored camera image moves the nose to the right
(the yaw cue grows; secureface.face.pose).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from facesynth.faces import (
    Landmarks,
    from_jpeg,
    jitter,
    landmarks_of,
    rotate_head,
    tilt_photo,
    to_jpeg,
)
from secureface.face.inference import RGBImage

#: Head turn rendered for a turn step, degrees. Our 2.5-D renders move the yaw cue by 0.23-0.38
#: at this angle on the frontal package faces (docs/LIVENESS.md).
TURN_DEGREES = 38.0
#: How far a flat photo is tilted for a turn step, degrees (DESIGN.md section 4: +-40).
TILT_DEGREES = 40.0
#: Sign of the rotation for each step (> 0: toward the person's own left).
DIRECTION = {"center": 0.0, "turn_left": 1.0, "turn_right": -1.0}


def _direction(step: str) -> float:
    if step not in DIRECTION:
        raise ValueError(f"unknown challenge step {step!r}")
    return DIRECTION[step]


def genuine_sequence(
    image: RGBImage,
    challenge: Sequence[str],
    *,
    degrees: float = TURN_DEGREES,
    seed: int = 0,
    landmarks: Landmarks | None = None,
) -> list[RGBImage]:
    """A person performing ``challenge``: the photo for ``center``, a rendered head turn for each
    turn, every frame a slightly different capture (:func:`~facesynth.faces.jitter`).

    Raises:
        ValueError: an unknown step, or the photo does not hold exactly one face.
    """
    points = landmarks or landmarks_of(image)
    rng = np.random.default_rng(seed)
    frames = []
    for step in challenge:
        turn = _direction(step) * degrees
        rendered = image if turn == 0 else rotate_head(image, points, turn)
        frames.append(jitter(rendered, rng))
    return frames


def repeated_frame_sequence(
    image: RGBImage, challenge: Sequence[str], *, seed: int = 0
) -> list[RGBImage]:
    """One captured frame sent for every step, re-encoded as JPEG at a different quality each
    time (95, 85, 75, ...), so the pixels differ slightly but the capture is the same."""
    for step in challenge:
        _direction(step)
    frame = jitter(image, np.random.default_rng(seed))
    return [from_jpeg(to_jpeg(frame, 95 - 10 * (i % 3))) for i in range(len(challenge))]


def tilted_photo_sequence(
    image: RGBImage,
    challenge: Sequence[str],
    *,
    degrees: float = TILT_DEGREES,
    distance: float | None = None,
    seed: int = 0,
    landmarks: Landmarks | None = None,
) -> list[RGBImage]:
    """A printed photo held to the camera, tilted about a vertical axis through the face for
    each turn step (``turn_left`` brings the photo's left half forward, as a head turning to its
    own left would), flat for ``center``. ``distance`` (camera to photo, pixels) defaults to 1.2x
    the image width, a webcam's focal length. No parallax: each frame is a homography.

    Raises:
        ValueError: an unknown step, or the photo does not hold exactly one face.
    """
    points = landmarks or landmarks_of(image)
    axis_x = float(np.mean([p[0] for p in points]))
    dist = distance if distance is not None else 1.2 * image.shape[1]
    rng = np.random.default_rng(seed)
    frames = []
    for step in challenge:
        tilt = _direction(step) * degrees
        shown = image if tilt == 0 else tilt_photo(image, axis_x, tilt, dist)
        frames.append(jitter(shown, rng))
    return frames


def swapped_person_sequence(
    image: RGBImage,
    other: RGBImage,
    challenge: Sequence[str],
    *,
    swap_step: int = -1,
    seed: int = 0,
) -> list[RGBImage]:
    """``image``'s person performs the challenge, except that step ``swap_step`` (default: the
    last) is ``other``'s person performing that step.

    Raises:
        ValueError: an unknown step, or a photo does not hold exactly one face.
    """
    frames = genuine_sequence(image, challenge, seed=seed)
    replacement = genuine_sequence(other, challenge, seed=seed + 1)
    frames[swap_step] = replacement[swap_step]
    return frames
