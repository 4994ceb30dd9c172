"""Image synthesis for liveness tests: a head turn rendered from one photo, a tilted flat photo,
capture jitter and JPEG round trips. Pure numpy + Pillow, deterministic, about 30 ms a frame.

Head turn (:func:`rotate_head`). The face mesh model is not converted here, so the head's 3-D
shape is approximated from the five YuNet landmarks (eye distance ``d``):

- the head is an ellipsoid centred between the eyes and the mouth, semi-axes ``0.95 d`` across,
  ``1.6 d`` up-down and ``0.9 d`` deep (toward the camera); the eye sockets are sunk ``0.08 d``;
- the nose is a ridge from the eye line (``0.15 d`` high) to the nose tip (``0.3 d`` above the
  ellipsoid), ``0.1-0.2 d`` wide;
- the head turns by ``degrees`` about a vertical axis through the ellipsoid's centre, i.e. behind
  the face: a surface point at depth ``z`` moves across by ``(x - cx)(cos t - 1) + z sin t``, so
  the nose tip moves more than the eyes and the eyes more than the face's outline (parallax);
- each image row is re-rendered by inverse mapping with occlusion: scanning in the direction of
  motion, a point is visible only if it lands beyond every point before it (the surface folds
  behind the nose and the far cheek); the revealed side is stretched from the photo's pixels;
- the displacement fades to zero over a band of 25 % around the ellipse, so hair and background
  bend smoothly instead of tearing.

``degrees > 0`` turns the head toward the person's own LEFT: their nose moves to the right of
the (unmirrored) image, so the yaw cue of :func:`secureface.face.pose_cues` grows. That is what
the liveness check calls ``turn_left``.

Tilted photo (:func:`tilt_photo`): a flat print rotated about a vertical axis in front of a
pinhole camera; the image is a homography of the original, with no parallax at all.
"""

from __future__ import annotations

import io
import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from secureface.face import detect_faces
from secureface.face.inference import Point, RGBImage

Landmarks = tuple[Point, Point, Point, Point, Point]

#: Head model, in eye distances (see the module docstring).
HALF_WIDTH, HALF_HEIGHT, DEPTH = 0.95, 1.6, 0.9
NOSE_HEIGHT, EYE_SINK, FADE = 0.3, 0.08, 0.25


def to_jpeg(image: RGBImage, quality: int = 90) -> bytes:
    """Encode an RGB image as a baseline JPEG (what a browser canvas sends)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def from_jpeg(data: bytes) -> RGBImage:
    """Decode JPEG bytes into an RGB array."""
    with Image.open(io.BytesIO(data)) as picture:
        return np.ascontiguousarray(np.asarray(picture.convert("RGB"), dtype=np.uint8))


def landmarks_of(image: RGBImage) -> Landmarks:
    """The five YuNet landmarks of the one face in ``image``.

    Raises:
        ValueError: the picture does not hold exactly one face.
    """
    from facesynth.models import model  # local: keeps rendering importable without models

    faces = detect_faces(model("detector"), image)
    if len(faces) != 1:
        raise ValueError(f"expected one face, found {len(faces)}")
    return faces[0].landmarks


def head_depth(
    shape: tuple[int, int], landmarks: Landmarks
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Depth toward the camera (pixels), the warp weight (0..1) and the head's centre x."""
    e1, e2, nose, m1, m2 = (np.asarray(p, dtype=np.float64) for p in landmarks)
    d = float(np.hypot(*(e2 - e1)))
    eye, mouth = (e1 + e2) / 2, (m1 + m2) / 2
    cx, cy = float(eye[0]), float(eye[1] + mouth[1]) / 2
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    radius = np.hypot((x - cx) / (HALF_WIDTH * d), (y - cy) / (HALF_HEIGHT * d))
    depth = DEPTH * d * np.sqrt(np.clip(1.0 - radius**2, 0.0, None))
    span = max(float(nose[1] - eye[1]), 1.0)
    t = (y - eye[1]) / span  # 0 on the eye line, 1 at the nose tip
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
    return depth, weight, cx


def _turn_rows(image: RGBImage, landmarks: Landmarks, radians: float) -> RGBImage:
    """Render a turn with ``radians >= 0`` (surface points move toward +x)."""
    height, width = image.shape[:2]
    depth, weight, cx = head_depth((height, width), landmarks)
    x = np.broadcast_to(np.arange(width, dtype=np.float64), (height, width))
    moved = x + weight * ((x - cx) * (math.cos(radians) - 1.0) + depth * math.sin(radians))
    out = image.copy()
    source = image.astype(np.float32)
    columns = np.arange(width, dtype=np.float64)
    for row in np.flatnonzero(weight.max(axis=1) > 0):
        target = moved[row]
        visible = np.empty(width, dtype=bool)
        visible[0] = True
        visible[1:] = target[1:] > np.maximum.accumulate(target)[:-1]
        position = np.interp(columns, target[visible], columns[visible])
        left = np.clip(np.floor(position).astype(np.intp), 0, width - 2)
        frac = (position - left)[:, np.newaxis].astype(np.float32)
        mixed = source[row, left] * (1 - frac) + source[row, left + 1] * frac
        out[row] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out


def rotate_head(image: RGBImage, landmarks: Landmarks, degrees: float) -> RGBImage:
    """Render the head in ``image`` turned by ``degrees`` (> 0: toward the person's own left).

    The face should be upright (eye line within about 10 degrees of horizontal).
    """
    if degrees >= 0:
        return _turn_rows(image, landmarks, math.radians(degrees))
    width = image.shape[1]
    p = [(width - 1 - px, py) for px, py in landmarks]
    flipped: Landmarks = (p[0], p[1], p[2], p[3], p[4])
    mirror = np.ascontiguousarray(image[:, ::-1])
    return np.ascontiguousarray(_turn_rows(mirror, flipped, math.radians(-degrees))[:, ::-1])


def tilt_photo(
    image: RGBImage, axis_x: float, degrees: float, distance: float, *, fill: int = 90
) -> RGBImage:
    """A flat photo rotated by ``degrees`` about the vertical line ``x = axis_x``, seen by a
    pinhole camera ``distance`` pixels away (focal length = distance, so the axis keeps scale).

    ``degrees > 0`` moves the photo's right half away from the camera. Uncovered areas are grey.
    """
    t, dist = math.radians(degrees), float(distance)
    centre_y = image.shape[0] / 2
    forward = np.array([[dist * math.cos(t), 0, 0], [0, dist, 0], [math.sin(t), 0, dist]])
    shift = np.array([[1, 0, axis_x], [0, 1, centre_y], [0, 0, 1.0]])
    homography = shift @ forward @ np.linalg.inv(shift)
    inverse = np.linalg.inv(homography)
    inverse /= inverse[2, 2]
    height, width = image.shape[:2]
    warped = Image.fromarray(image).transform(
        (width, height),
        Image.Transform.PERSPECTIVE,
        data=tuple(float(v) for v in inverse.flatten()[:8]),
        resample=Image.Resampling.BILINEAR,
        fillcolor=(fill, fill, fill),
    )
    return np.ascontiguousarray(np.asarray(warped, dtype=np.uint8))


def jitter(image: RGBImage, rng: np.random.Generator) -> RGBImage:
    """A slightly different capture: scale 0.97-1.03, shift +-3 px, brightness +-6 %, sensor
    noise (sigma 1.5 grey levels)."""
    height, width = image.shape[:2]
    scale = float(rng.uniform(0.97, 1.03))
    dx, dy = (float(v) for v in rng.uniform(-3.0, 3.0, size=2))
    cx, cy = width / 2, height / 2
    # Pillow's AFFINE maps output to input: x_in = (x_out - cx - dx) / scale + cx.
    coefficients = (1 / scale, 0.0, cx - (cx + dx) / scale, 0.0, 1 / scale, cy - (cy + dy) / scale)
    moved = Image.fromarray(image).transform(
        (width, height), Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR
    )
    pixels = np.asarray(moved, dtype=np.float32) * float(rng.uniform(0.94, 1.06))
    pixels += rng.normal(0.0, 1.5, size=pixels.shape).astype(np.float32)
    return np.clip(pixels + 0.5, 0, 255).astype(np.uint8)
