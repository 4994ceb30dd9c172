"""A 3-D head from one photo, rendered at any yaw and pitch, framed like a webcam frame.

Geometry (all lengths in eye distances ``d``; x right, y down, z toward the camera; origin at
the midpoint of the eyes). The head's front surface is a height field over the photo built from
the five YuNet landmarks; nothing here is fitted to the person beyond them:

- an ellipsoid for the whole head including hair, centred ``0.05 d`` above the eye line, semi-axes
  ``1.25 d`` across and ``1.95 d`` up-down (top of the hair ~2 d above the eyes, chin ~1.9 d
  below: adult anthropometry, interpupillary distance ~63 mm, head breadth ~150 mm, eye-to-chin
  ~120 mm), ``1.35 d`` deep from its silhouette plane to the face's front (~85 mm; the ears lie
  about that far behind the eyes);
- eye sockets sunk ``0.12 d``; a nose ridge from ``0.12 d`` at the eye line to ``0.35 d`` at the
  tip (nose projection ~20 mm), ``0.12-0.2 d`` wide, dropping back below the tip;
- yaw turns the head about a vertical axis through the ellipsoid's centre (x = 0, z = 0: about
  85 mm behind the eyes, near the cervical spine); pitch about a horizontal axis ``1.0 d`` below
  the eye line at the same depth (between the atlanto-occipital joint and the lower neck: an
  assumption). So a turn also moves the face across the frame, as a real one does;
- a pinhole camera ``CAMERA_EYE_DISTANCES`` (7.1 d, a face ~45 cm away) in front of the eye plane:
  the nose tip is magnified ~20 % more than the ears, and that changes as the head turns.

Rendering: every photo pixel of the head (4 sub-samples each) becomes a 3-D point, is rotated,
projected and splatted with a z-buffer (nearest surface wins); each target pixel then samples the
photo bilinearly at its winning point's source position (corrected by the sub-pixel offset);
small holes take their nearest neighbour. Around the head the displacement fades to zero over a
band (``FADE`` of the head's radius), so hair, neck and background bend instead of tearing; the
revealed far side of the head is stretched from the photo's pixels near the silhouette.

Conventions, in the unmirrored camera image: ``yaw > 0`` turns the head toward the person's OWN
left (the nose moves to the image's right, the yaw cue of :func:`secureface.face.pose_cues`
grows); ``pitch > 0`` lifts the chin (the nose tip moves up relative to the eyes, the pitch cue
shrinks).

This is exactly what an attacker can render from a victim's photo: motion rendered here is no
evidence of life. What makes a burst genuine is the light (:mod:`livesim.light`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from secureface.adapters.onnx_runtime import OnnxModel
from secureface.face import detect_faces

RGB = NDArray[np.uint8]
F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
ROOT = Path(__file__).resolve().parents[2]
DETECTOR = ROOT / "s3-uploads" / "yunet-2023mar.onnx"

#: Output frame (width, height): what the page sends (320 px on the long side).
FRAME = (320, 240)
#: Eye distance in a 320-px-wide frame, px (the brief's 45-60 px; scaled with the frame width).
EYE_DISTANCE = 50.0
#: Head ellipsoid, in eye distances (module docstring).
HEAD_CENTRE_Y, HALF_WIDTH, HALF_HEIGHT, DEPTH = -0.05, 1.25, 1.95, 1.35
NOSE_ROOT, NOSE_TIP, EYE_SINK = 0.12, 0.35, 0.12
#: Pitch axis below the eye line, eye distances.
PITCH_AXIS_Y = 1.0
#: Width of the band around the head over which the motion fades out, in head radii.
FADE = 0.5
#: Camera to eye plane, in eye distances (45 cm / 63 mm).
CAMERA_EYE_DISTANCES = 7.1
_SUBPIXEL = ((-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25))


@cache
def detector() -> OnnxModel:
    """YuNet from s3-uploads (the published file, read from disk), loaded once."""
    return OnnxModel(DETECTOR.read_bytes())


def landmarks_of(image: RGB, *, input_size: int = 640) -> F64:
    """The five YuNet landmarks ``(5, 2)`` of the one face in ``image``.

    Raises:
        ValueError: not exactly one face.
    """
    faces = detect_faces(detector(), image, input_size=input_size)
    if len(faces) != 1:
        raise ValueError(f"expected one face, found {len(faces)}")
    return np.asarray(faces[0].landmarks, dtype=np.float64)


def _smoothstep(x: F64) -> F64:
    x = np.clip(x, 0.0, 1.0)
    result: F64 = x * x * (3 - 2 * x)
    return result


@dataclass(frozen=True, eq=False)
class Framed:
    """One head framed in one frame size, with everything a render needs (built once).

    Attributes:
        image: the framed photo ``(H, W, 3)``.
        landmarks: its five landmarks in frame pixels.
        eye_distance: in frame pixels.
        depth: height of the head's surface toward the camera, px (0 off the head).
        weight: how much each pixel follows the head (1 on it, fading to 0 around it).
        mask: where the head is (0..1), before any motion.
        body: where the neck and shoulders are (0..1): at about the face's distance from the
            screen, so they catch its light too (:mod:`livesim.light`).
        normals: unit surface normals ``(H, W, 3)``.
    """

    image: RGB
    landmarks: F64
    eye_distance: float
    depth: F64
    weight: F64
    mask: F64
    body: F32
    normals: F64
    axis: tuple[float, float, float]
    camera: float
    samples: dict[str, NDArray[np.generic]] = field(repr=False)


def frame_photo(photo: RGB, points: F64, size: tuple[int, int], eye_distance: float) -> tuple[RGB, F64]:
    """Scale and crop ``photo`` so the face (eyes-to-mouth midpoint) is in the middle of a
    ``size`` frame with ``eye_distance`` px between the eyes; uncovered edges repeat the photo's
    border."""
    width, height = size
    d = float(np.hypot(*(points[1] - points[0])))
    scale = eye_distance / d
    focus = (points[:2].mean(axis=0) + points[3:].mean(axis=0)) / 2
    offset = focus - np.array([width / 2, height / 2]) / scale
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    coords = [ys / scale + offset[1], xs / scale + offset[0]]
    smooth = photo
    if scale < 0.7:  # shrinking a lot: blur first so it does not alias
        sigma = 0.4 / scale
        smooth = ndimage.gaussian_filter(photo.astype(np.float32), (sigma, sigma, 0))
    channels = [
        ndimage.map_coordinates(np.asarray(smooth[..., c], np.float32), coords, order=1, mode="nearest")
        for c in range(3)
    ]
    framed = np.clip(np.stack(channels, axis=-1) + 0.5, 0, 255).astype(np.uint8)
    return framed, (points - offset) * scale


def _build(photo: RGB, points: F64, size: tuple[int, int], eye_distance: float) -> Framed:
    image, marks = frame_photo(photo, points, size, eye_distance)
    height, width = image.shape[:2]
    e1, e2, nose = marks[0], marks[1], marks[2]
    d = float(np.hypot(*(e2 - e1)))
    eye = (e1 + e2) / 2
    hx, hy = float(eye[0]), float(eye[1] + HEAD_CENTRE_Y * d)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    radius = np.hypot((x - hx) / (HALF_WIDTH * d), (y - hy) / (HALF_HEIGHT * d))
    depth = DEPTH * d * np.sqrt(np.clip(1.0 - radius**2, 0.0, None))
    # nose: a ridge from the eye line to the tip, then back down to the face below it
    span = max(float(nose[1] - eye[1]), 1.0)
    t = (y - eye[1]) / span
    along = np.clip(t, 0.0, 1.0)
    ridge_x = eye[0] + (nose[0] - eye[0]) * along
    below = NOSE_TIP * np.exp(-((((t - 1.0) * span) / (0.15 * d)) ** 2))
    height_ = np.where(t <= 1.0, NOSE_ROOT + (NOSE_TIP - NOSE_ROOT) * along, below)
    height_ = height_ * np.clip((t + 0.3) / 0.3, 0.0, 1.0)
    nose_width = (0.12 + 0.08 * along) * d
    depth += height_ * d * np.exp(-0.5 * ((x - ridge_x) / nose_width) ** 2)
    for centre in (e1, e2):
        sink = ((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (0.2 * d) ** 2
        depth -= EYE_SINK * d * np.exp(-0.5 * sink)
    depth *= radius < 1.0
    weight = 1.0 - _smoothstep((radius - 1.0) / FADE)
    mask = 1.0 - _smoothstep((radius - 0.97) / 0.06)
    smooth = ndimage.gaussian_filter(depth, 1.0)
    gy, gx = np.gradient(smooth)
    normals = np.stack([-gx, -gy, np.ones_like(gx)], axis=-1)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    normals[radius >= 1.0] = (0.0, 0.0, 1.0)
    # neck and shoulders: below the chin, widening downward (static; the head moves over them)
    chin = hy + HALF_HEIGHT * d
    below_chin = (y - (chin - 0.5 * d)) / d
    half = 0.55 * d + np.clip(below_chin - 0.6, 0.0, None) * 2.5 * d
    body = _smoothstep(below_chin / 0.3) * (1.0 - _smoothstep((np.abs(x - hx) - half) / (0.3 * d)))
    camera = CAMERA_EYE_DISTANCES * d + float(depth[int(round(eye[1])), int(round(eye[0]))])
    axis = (hx, float(eye[1] + PITCH_AXIS_Y * d), 0.0)
    samples = _samples(image, depth, weight, mask, normals, camera)
    return Framed(
        image, marks, d, depth, weight, mask, body.astype(np.float32), normals, axis, camera, samples
    )


def _samples(
    image: RGB, depth: F64, weight: F64, mask: F64, normals: F64, camera: float
) -> dict[str, NDArray[np.generic]]:
    """The 3-D points of the moving region (4 sub-samples a pixel), unprojected once."""
    height, width = weight.shape
    rows, cols = np.nonzero(weight > 1e-3)
    cx, cy = width / 2, height / 2
    sx = np.concatenate([cols + ox for ox, _ in _SUBPIXEL]).astype(np.float64)
    sy = np.concatenate([rows + oy for _, oy in _SUBPIXEL]).astype(np.float64)
    r, c = np.tile(rows, len(_SUBPIXEL)), np.tile(cols, len(_SUBPIXEL))
    z = depth[r, c]
    shrink = (camera - z) / camera  # unproject through the pinhole: X = (x - cx) * (Zc - z) / Zc
    return {
        "sx": sx,
        "sy": sy,
        "X": (sx - cx) * shrink,
        "Y": (sy - cy) * shrink,
        "Z": z,
        "w": weight[r, c],
        "m": mask[r, c].astype(np.float32),
        "n": normals[r, c],
        "pixels": (rows * width + cols).astype(np.intp),
    }


@dataclass(frozen=True, eq=False)  # hashed by identity: renders are cached per head
class HeadModel:
    """A person's head from one photo: frame it, render it at any pose.

    Attributes:
        photo: the photo (RGB).
        landmarks: the five YuNet landmarks in photo pixels.
        eye_distance: eye distance in a 320-px-wide frame (scaled with the frame's width).
    """

    photo: RGB
    landmarks: F64
    eye_distance: float = EYE_DISTANCE

    @classmethod
    def from_photo(cls, photo: RGB, *, eye_distance: float = EYE_DISTANCE) -> HeadModel:
        """The head of the one face in ``photo`` (found with YuNet).

        Raises:
            ValueError: the photo does not hold exactly one face.
        """
        photo = np.ascontiguousarray(photo, dtype=np.uint8)
        return cls(photo, landmarks_of(photo), eye_distance)

    def framed(self, size: tuple[int, int] = FRAME) -> Framed:
        """The head framed in a ``size`` frame (built once per size)."""
        return _framed(self, size)

    def render(
        self,
        yaw_deg: float,
        pitch_deg: float,
        *,
        size: tuple[int, int] = FRAME,
        shift: tuple[float, float] = (0.0, 0.0),
        scale: float = 1.0,
    ) -> tuple[RGB, F32, F32]:
        """The head turned by ``yaw_deg`` (> 0: toward the person's own left) and lifted by
        ``pitch_deg`` (> 0: chin up), moved by ``shift`` (eye distances) and ``scale`` (> 1:
        closer to the camera), in a ``size`` = (width, height) frame.

        Returns:
            The RGB frame; the head's mask (0..1); the surface normal's component toward the
            camera (the screen is beside it, so this is also the screen light's cosine; 1 off
            the head). Cached: do not modify the arrays.
        """
        q = 0.1  # quantised so that near-identical poses share a cached render
        return _render(
            self,
            size,
            round(yaw_deg / q) * q,
            round(pitch_deg / q) * q,
            round(shift[0] * 200) / 200,
            round(shift[1] * 200) / 200,
            round(scale * 500) / 500,
        )


@lru_cache(maxsize=16)
def _framed(head: HeadModel, size: tuple[int, int]) -> Framed:
    eye_distance = head.eye_distance * size[0] / FRAME[0]
    return _build(head.photo, head.landmarks, size, eye_distance)


def rotation(yaw_deg: float, pitch_deg: float) -> F64:
    """Rotation matrix: yaw about the vertical axis, then pitch about the horizontal one."""
    a, b = math.radians(yaw_deg), math.radians(pitch_deg)
    yaw = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    pitch = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    result: F64 = pitch @ yaw
    return result


def _bilinear(image: F32, x: F64, y: F64) -> F32:
    height, width = image.shape[:2]
    x = np.clip(x, 0.0, width - 1.001)
    y = np.clip(y, 0.0, height - 1.001)
    x0, y0 = x.astype(np.intp), y.astype(np.intp)
    fx, fy = (x - x0)[:, None].astype(np.float32), (y - y0)[:, None].astype(np.float32)
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    result: F32 = top * (1 - fy) + bottom * fy
    return result


@cache
def _image_f32(framed: Framed) -> F32:
    return framed.image.astype(np.float32)


@lru_cache(maxsize=128)
def _render(
    head: HeadModel,
    size: tuple[int, int],
    yaw_deg: float,
    pitch_deg: float,
    dx: float,
    dy: float,
    scale: float,
) -> tuple[RGB, F32, F32]:
    f = head.framed(size)
    s = f.samples
    width, height = size
    cx, cy = width / 2, height / 2
    ax, ay, az = f.axis
    ax_, ay_ = (ax - cx) * (f.camera - az) / f.camera, (ay - cy) * (f.camera - az) / f.camera
    rot = rotation(yaw_deg, pitch_deg)
    X, Y, Z, w = s["X"], s["Y"], s["Z"], s["w"]
    px, py, pz = X - ax_, Y - ay_, Z - az
    qx = rot[0, 0] * px + rot[0, 1] * py + rot[0, 2] * pz + ax_
    qy = rot[1, 0] * px + rot[1, 1] * py + rot[1, 2] * pz + ay_
    qz = rot[2, 0] * px + rot[2, 1] * py + rot[2, 2] * pz + az
    d = f.eye_distance
    # move toward the camera by (scale - 1) of the camera distance: the head looks `scale` x larger
    tz = (1.0 - 1.0 / scale) * (f.camera - az)
    x3 = X + w * (qx + dx * d - X)
    y3 = Y + w * (qy + dy * d - Y)
    z3 = Z + w * (qz + tz - Z)
    depth_to_camera = np.maximum(f.camera - z3, 1.0)
    xt = cx + x3 * f.camera / depth_to_camera
    yt = cy + y3 * f.camera / depth_to_camera
    tx, ty = np.rint(xt).astype(np.intp), np.rint(yt).astype(np.intp)
    inside = (tx >= 0) & (tx < width) & (ty >= 0) & (ty < height)
    lin = (ty * width + tx)[inside]
    z_in = z3[inside]
    total = width * height
    zbuf = np.zeros(total)  # static background at depth 0
    zbuf[s["pixels"]] = -np.inf  # the moving region is empty until a point lands there
    np.maximum.at(zbuf, lin, z_in)
    won = z_in >= zbuf[lin]
    idx = np.flatnonzero(inside)[won]
    target = lin[won]
    # the winning point's source position, corrected by where it landed inside its pixel
    src_x = np.arange(total, dtype=np.float64) % width
    src_y = np.arange(total, dtype=np.float64) // width
    src_x[target] = s["sx"][idx] + (tx[idx] - xt[idx])
    src_y[target] = s["sy"][idx] + (ty[idx] - yt[idx])
    mask = f.mask.ravel().astype(np.float32) * (f.weight.ravel() <= 1e-3)
    mask[target] = s["m"][idx]
    normal = s["n"][idx]
    n_rot = normal @ rot.T
    wi = s["w"][idx][:, None]
    n_mix = normal + wi * (n_rot - normal)
    n_mix /= np.linalg.norm(n_mix, axis=1, keepdims=True)
    facing = np.ones(total, dtype=np.float32)
    facing[target] = np.clip(n_mix[:, 2], 0.0, 1.0)
    holes = np.isinf(zbuf)
    if holes.any():
        grid = holes.reshape(height, width)
        _, (iy, ix) = ndimage.distance_transform_edt(grid, return_indices=True)
        near = (iy * width + ix).ravel()[holes]
        src_x[holes], src_y[holes] = src_x[near], src_y[near]
        mask[holes], facing[holes] = mask[near], facing[near]
    moving = np.zeros(total, dtype=bool)
    moving[s["pixels"]] = True
    moving[target] = True
    image = f.image.reshape(total, 3).copy()
    sampled = _bilinear(_image_f32(f), src_x[moving], src_y[moving])
    image[moving] = np.clip(sampled + 0.5, 0, 255).astype(np.uint8)
    rgb = image.reshape(height, width, 3)
    rgb.flags.writeable = False
    mask_2d, facing_2d = mask.reshape(height, width), facing.reshape(height, width)
    mask_2d.flags.writeable = False
    facing_2d.flags.writeable = False
    return rgb, mask_2d, facing_2d
