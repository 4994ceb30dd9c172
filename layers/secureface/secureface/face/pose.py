"""Head-pose cues from the five YuNet landmarks, for the server-side liveness challenge.

Both cues are measured in the frame of the eyes, so rolling the head (tilting it toward a
shoulder) does not change them, and divided by the eye distance, so they do not depend on the
face's size in the picture. With ``m`` the midpoint between the eyes, ``u`` the unit vector from
the image-left eye to the image-right eye, ``v`` that vector turned 90 degrees toward the bottom
of the image and ``d`` the eye distance::

    yaw   = (nose - m) . u / d
    pitch = (nose - m) . v / d

For an upright face these are ``(nose_x - m_x) / d`` and ``(nose_y - m_y) / d``.

Sign convention, in the image as the camera recorded it (not mirrored):

- ``yaw > 0``: the nose tip is right of the eye midpoint in the image, i.e. the person turned
  their head toward *their own left*. ``yaw < 0``: toward their own right. Mirroring the image
  (a selfie preview) flips the sign. A frontal face is near 0.
- ``pitch``: about 0.57 for a frontal face (the SFace template's value); it grows when the person
  looks down (the nose tip moves toward the mouth) and shrinks when they look up.

A planar photo turned in front of the camera hardly moves these cues, while a real head turn of
about 40 degrees moves yaw by about 0.3-0.5 (DESIGN.md section 4), which is what makes them useful
for a turn-left / turn-right challenge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from secureface.errors import BadRequestError
from secureface.face.inference import Point

#: Pitch cue of the frontal SFace template, the neutral reference.
FRONTAL_PITCH = 0.571


@dataclass(frozen=True, slots=True)
class PoseCues:
    """Yaw and pitch cues of one face (see the module docstring for the conventions).

    Attributes:
        yaw: horizontal nose offset from the eye midpoint, in eye distances.
        pitch: vertical nose offset from the eye midpoint, in eye distances.
    """

    yaw: float
    pitch: float


def pose_cues(landmarks: Sequence[Point]) -> PoseCues:
    """Yaw and pitch cues from the five landmarks of a detected face.

    Args:
        landmarks: eye, eye, nose tip, mouth corner, mouth corner (YuNet order).

    Returns:
        The cues.

    Raises:
        BadRequestError: not five finite points, or the two eyes coincide.
    """
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (5, 2) or not np.all(np.isfinite(points)):
        raise BadRequestError(reason=f"expected 5 finite landmarks, got shape {points.shape}")
    left_eye, right_eye, nose = points[0], points[1], points[2]
    across = right_eye - left_eye
    distance = float(np.hypot(across[0], across[1]))
    if distance < 1e-6:
        raise BadRequestError(reason="eye landmarks coincide")
    u = across / distance
    v = np.array([-u[1], u[0]])  # u turned +90 degrees: toward the image bottom (y grows down)
    offset = nose - (left_eye + right_eye) / 2
    return PoseCues(
        yaw=float(offset @ u) / distance,
        pitch=float(offset @ v) / distance,
    )
