"""A 3-D head from one photo, rendered at any yaw and pitch, framed like a webcam frame.

The head's shape is approximated from the five YuNet landmarks (eye distance ``d``): an
ellipsoid ``0.95 d`` across, ``1.6 d`` up-down and ``0.9 d`` deep, eye sockets sunk ``0.08 d``,
a nose ridge rising to ``0.3 d`` at the tip. Every pixel of the head becomes a 3-D point, is
rotated about axes through the ellipsoid's centre (behind the face, like a neck), projected
orthographically and splatted with a z-buffer (nearest surface wins; the revealed side is
stretched from the photo's pixels; holes take their nearest neighbour). The displacement fades
to zero over a band around the head, so hair and background bend instead of tearing.

Conventions, in the unmirrored camera image: ``yaw > 0`` turns the head toward the person's OWN
left (the nose moves to the image's right, the yaw cue grows); ``pitch > 0`` lifts the chin (the
nose moves up, the pitch cue shrinks).

This is the same thing an attacker can render from a victim's photo: motion rendered here is no
evidence of life. What makes a burst genuine is the light (:mod:`livesim.camera`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage

from secureface.face import detect_faces

RGB = NDArray[np.uint8]
F32 = NDArray[np.float32]
ROOT = Path(__file__).resolve().parents[2]
#: Output frame (width, height): what the page sends (320 px on the long side).
FRAME = (320, 240)
#: Eye distance in the frame, px: a face at 40-50 cm from a laptop camera.
EYE_DISTANCE = 52.0
HALF_WIDTH, HALF_HEIGHT, DEPTH = 0.95, 1.6, 0.9
NOSE_HEIGHT, EYE_SINK, FADE = 0.3, 0.08, 0.35
_SUBPIXEL = ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5))


@cache
def detector() -> object:
    """YuNet from s3-uploads (the published file), loaded once."""
    from secureface.adapters.onnx_runtime import OnnxModel

    return OnnxModel((ROOT / "s3-uploads" / "yunet-2023mar.onnx").read_bytes())


def landmarks_of(image: RGB) -> NDArray[np.float64]:
    """The five YuNet landmarks ``(5, 2)`` of the one face in ``image``.

    Raises:
        ValueError: not exactly one face.
    """
    faces = detect_faces(detector(), image)  # type: ignore[arg-type]
    if len(faces) != 1:
        raise ValueError(f"expected one face, found {len(faces)}")
    return np.asarray(faces[0].landmarks, dtype=np.float64)


def frame_photo(
    photo: RGB, points: NDArray[np.float64], size: tuple[int, int], eye_distance: float
) -> tuple[RGB, NDArray[np.float64]]:
    """Scale and crop ``photo`` so the face sits in the middle of a ``size`` frame."""
    width, height = size
    d = float(np.hypot(*(points[1] - points[0])))
    scale = eye_distance / d
    focus = (points[:2].mean(axis=0) + points[3:].mean(axis=0)) / 2
    anchor = np.array([width / 2, height * 0.5])
    offset = focus - anchor / scale
    coefficients = (1 / scale, 0.0, float(offset[0]), 0.0, 1 / scale, float(offset[1]))
    framed = Image.fromarray(photo).transform(
        size,
        Image.Transform.AFFINE,
        coefficients,
        Image.Resampling.BILINEAR,
        fillcolor=(96, 96, 96),
    )
    return np.asarray(framed, dtype=np.uint8), (points - offset) * scale


@dataclass(frozen=True, eq=False)  # hashed by identity: renders are cached per head
class HeadModel:
    """A photo framed as a webcam frame, with the head's depth.

    Attributes:
        image: the framed photo, ``(H, W, 3)``.
        landmarks: its five landmarks in frame pixels.
        depth: height of the head's surface toward the camera, px (0 off the head).
        weight: how much each pixel follows the head (1 on it, fading to 0 around it).
        centre: the rotation centre ``(x, y)`` in frame pixels.
    """

    image: RGB
    landmarks: NDArray[np.float64]
    depth: NDArray[np.float64]
    weight: NDArray[np.float64]
    centre: tuple[float, float]

    @classmethod
    def from_photo(
        cls, photo: RGB, *, size: tuple[int, int] = FRAME, eye_distance: float = EYE_DISTANCE
    ) -> HeadModel:
        """Frame the one face of ``photo`` and build its head.

        Raises:
            ValueError: the photo does not hold exactly one face.
        """
        image, points = frame_photo(photo, landmarks_of(photo), size, eye_distance)
        depth, weight, centre = _head_depth(image.shape[:2], points)
        return cls(image, points, depth, weight, centre)

    @property
    def eye_distance(self) -> float:
        return float(np.hypot(*(self.landmarks[1] - self.landmarks[0])))

    def render(self, yaw_deg: float, pitch_deg: float) -> tuple[RGB, F32, F32]:
        """The head turned by ``yaw_deg`` and lifted by ``pitch_deg``.

        Returns:
            The RGB frame, the head mask (0..1: where the screen's light falls at the face's
            distance) and the surface normal's component toward the camera (the screen is
            beside the camera, so it is also the light's cosine).
        """
        return _render(self, round(yaw_deg * 2) / 2, round(pitch_deg * 2) / 2)


def _head_depth(
    shape: tuple[int, ...], landmarks: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[float, float]]:
    e1, e2, nose, m1, m2 = landmarks
    d = float(np.hypot(*(e2 - e1)))
    eye, mouth = (e1 + e2) / 2, (m1 + m2) / 2
    cx, cy = float(eye[0]), float(eye[1] + mouth[1]) / 2
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    radius = np.hypot((x - cx) / (HALF_WIDTH * d), (y - cy) / (HALF_HEIGHT * d))
    depth = DEPTH * d * np.sqrt(np.clip(1.0 - radius**2, 0.0, None))
    span = max(float(nose[1] - eye[1]), 1.0)
    t = (y - eye[1]) / span
    along = np.clip(t, 0.0, 1.0)
    ridge_x = eye[0] + (nose[0] - eye[0]) * along
    below = NOSE_HEIGHT * np.exp(-((((t - 1.0) * span) / (0.15 * d)) ** 2))
    height = np.where(t <= 1.0, 0.15 + (NOSE_HEIGHT - 0.15) * along, below)
    height = height * np.clip((t + 0.3) / 0.3, 0.0, 1.0)
    width = (0.10 + 0.10 * along) * d
    depth += height * d * np.exp(-0.5 * ((x - ridge_x) / width) ** 2)
    for centre in (e1, e2):
        sink = ((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (0.18 * d) ** 2
        depth -= EYE_SINK * d * np.exp(-0.5 * sink)
    weight = np.clip(1.0 - (radius - 1.0) / FADE, 0.0, 1.0)
    return depth, weight, (cx, cy)


def _rotation(yaw_deg: float, pitch_deg: float) -> NDArray[np.float64]:
    a, b = math.radians(yaw_deg), math.radians(pitch_deg)
    yaw = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    pitch = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return pitch @ yaw


@cache
def _normals(head: HeadModel) -> NDArray[np.float64]:
    gy, gx = np.gradient(head.depth)
    n = np.stack([-gx, -gy, np.ones_like(gx)], axis=-1)
    # image y grows downward while the 3-D Y of _render is image y: the normal's y is -dz/dy
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


@cache
def _render(head: HeadModel, yaw_deg: float, pitch_deg: float) -> tuple[RGB, F32, F32]:
    image, weight = head.image, head.weight
    height, width = weight.shape
    rotation = _rotation(yaw_deg, pitch_deg)
    normals = _normals(head) @ rotation.T
    rows, cols = np.nonzero(weight > 0)
    out = image.copy()
    mask = np.zeros((height, width), dtype=np.float32)
    facing = np.ones((height, width), dtype=np.float32)
    covered = np.zeros((height, width), dtype=bool)
    covered[weight <= 0] = True
    cx, cy = head.centre
    xs, ys, zs, ws = [], [], [], []
    for ox, oy in _SUBPIXEL:
        x = cols + ox - cx
        y = rows + oy - cy
        z = head.depth[rows, cols]
        w = weight[rows, cols]
        p = np.stack([x, y, z])
        q = rotation @ p
        xs.append(cx + x + w * (q[0] - x))
        ys.append(cy + y + w * (q[1] - y))
        zs.append(z + w * (q[2] - z))
        ws.append(np.arange(len(rows)))
    tx = np.rint(np.concatenate(xs)).astype(np.intp)
    ty = np.rint(np.concatenate(ys)).astype(np.intp)
    tz = np.concatenate(zs)
    src = np.concatenate(ws)
    inside = (tx >= 0) & (tx < width) & (ty >= 0) & (ty < height)
    order = np.argsort(tz[inside], kind="stable")  # far first: the nearest is written last
    tx, ty, src = tx[inside][order], ty[inside][order], src[inside][order]
    r, c = rows[src], cols[src]
    out[ty, tx] = image[r, c]
    mask[ty, tx] = weight[r, c]
    facing[ty, tx] = np.clip(normals[r, c, 2], 0.0, 1.0)
    covered[ty, tx] = True
    if not covered.all():
        _, (iy, ix) = ndimage.distance_transform_edt(~covered, return_indices=True)
        holes = ~covered
        out[holes] = out[iy[holes], ix[holes]]
        mask[holes] = mask[iy[holes], ix[holes]]
        facing[holes] = facing[iy[holes], ix[holes]]
    return out, mask, facing
