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
from typing import Any

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
NOSE_ROOT, NOSE_TIP, NOSE_BASE, EYE_SINK = 0.10, 0.35, 0.35, 0.12
#: Pitch axis below the eye line, eye distances.
PITCH_AXIS_Y = 1.0
#: Width of the band around the head over which the motion fades out, in head radii.
FADE = 0.5
#: Margin rendered around the frame, in eye distances.
PAD = 1.2
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

    Every array covers the frame plus ``pad`` pixels on each side (so that the head can move in
    from beyond the frame's edges); renders crop it.

    Attributes:
        pad: the margin, px.
        image: the framed photo ``(H + 2 pad, W + 2 pad, 3)``.
        landmarks: its five landmarks in padded-frame pixels.
        eye_distance: in frame pixels.
        depth: height of the head's surface toward the camera, px (0 off the head).
        weight: how much each pixel follows the head (1 on it, fading to 0 around it).
        mask: where the head is (0..1), before any motion.
        body: where the neck and shoulders are (0..1): at about the face's distance from the
            screen, so they catch its light too (:mod:`livesim.light`). Static.
        normals: unit surface normals ``(H, W, 3)``.
        ellipse: the head's ellipse ``(cx, cy, semi-axis x, semi-axis y)`` in frame pixels.
        axis: the rotation centre (x, y in frame pixels, z = 0).
        camera: distance from the camera to the plane z = 0, px (= focal length in px).
    """

    pad: int
    image: RGB
    landmarks: F64
    eye_distance: float
    depth: F64
    weight: F64
    mask: F64
    body: F32
    normals: F64
    ellipse: tuple[float, float, float, float]
    axis: tuple[float, float]
    camera: float
    box: tuple[int, int, int, int]
    samples: dict[str, NDArray[Any]] = field(repr=False)
    image_f32: F32 = field(repr=False)

    def crop(self, array: NDArray[np.generic]) -> NDArray[np.generic]:
        """The frame's part of a padded array."""
        p = self.pad
        return array[p : array.shape[0] - p, p : array.shape[1] - p]


def frame_photo(
    photo: RGB, points: F64, size: tuple[int, int], eye_distance: float
) -> tuple[RGB, F64]:
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
    source = photo.astype(np.float32)
    if scale < 0.7:  # shrinking a lot: blur first so it does not alias
        sigma = 0.4 / scale
        source = ndimage.gaussian_filter(source, (sigma, sigma, 0))
    channels = [
        ndimage.map_coordinates(source[..., c], coords, order=1, mode="nearest") for c in range(3)
    ]
    framed = np.clip(np.stack(channels, axis=-1) + 0.5, 0, 255).astype(np.uint8)
    return framed, (points - offset) * scale


def _build(photo: RGB, points: F64, size: tuple[int, int], eye_distance: float) -> Framed:
    pad = math.ceil(PAD * eye_distance)
    padded = (size[0] + 2 * pad, size[1] + 2 * pad)
    image, marks = frame_photo(photo, points, padded, eye_distance)
    height, width = image.shape[:2]
    e1, e2, nose = marks[0], marks[1], marks[2]
    d = float(np.hypot(*(e2 - e1)))
    eye = (e1 + e2) / 2
    hx, hy = float(eye[0]), float(eye[1] + HEAD_CENTRE_Y * d)
    a, b = HALF_WIDTH * d, HALF_HEIGHT * d
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    radius = np.hypot((x - hx) / a, (y - hy) / b)
    inside = radius < 1.0
    depth = DEPTH * d * np.sqrt(np.clip(1.0 - radius**2, 0.0, None))
    # nose: a ridge from the eye line to the tip, then the nostrils back down to its base
    span = max(float(nose[1] - eye[1]), 1.0)
    t = (y - eye[1]) / span  # 0 on the eye line, 1 at the tip
    after = np.clip((y - nose[1]) / (NOSE_BASE * d), 0.0, None)  # 0 at the tip, 1 at the base
    along = np.clip(t, 0.0, 1.0)
    rise = np.where(
        t <= 1.0,
        (NOSE_ROOT + (NOSE_TIP - NOSE_ROOT) * along**1.5) * np.clip((t + 0.3) / 0.3, 0.0, 1.0),
        NOSE_TIP * (1.0 - _smoothstep(after)),
    )
    ridge_x = eye[0] + (nose[0] - eye[0]) * np.clip(t, 0.0, None)
    nose_width = (0.10 + 0.08 * along + 0.10 * np.clip(after, 0.0, 1.0)) * d
    depth += rise * d * np.exp(-0.5 * ((x - ridge_x) / nose_width) ** 2)
    for centre in (e1, e2):
        sink = ((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (0.2 * d) ** 2
        depth -= EYE_SINK * d * np.exp(-0.5 * sink)
    depth = np.where(inside, np.maximum(depth, 0.0), 0.0)
    weight = 1.0 - _smoothstep((radius - 1.0) / FADE)
    mask = 1.0 - _smoothstep((radius - 0.96) / 0.06)
    gy, gx = np.gradient(ndimage.gaussian_filter(depth, 1.0))
    normals = np.stack([-gx, -gy, np.ones_like(gx)], axis=-1)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    normals[~inside] = (0.0, 0.0, 1.0)
    # neck and shoulders: below the chin, widening downward (static; the head moves over them)
    below_chin = (y - (hy + b - 0.5 * d)) / d
    half = 0.55 * d + np.clip(below_chin - 0.6, 0.0, None) * 2.5 * d
    body = _smoothstep(below_chin / 0.3) * (1.0 - _smoothstep((np.abs(x - hx) - half) / (0.3 * d)))
    camera = CAMERA_EYE_DISTANCES * d + DEPTH * d
    rows, cols = np.nonzero(weight > 1e-3)
    margin = int(0.4 * d)
    box = (  # where a render can change pixels: around the moving region, inside the frame
        max(int(cols.min()) - margin, pad),
        max(int(rows.min()) - margin, pad),
        min(int(cols.max()) + margin + 1, width - pad),
        min(int(rows.max()) + margin + 1, height - pad),
    )
    ellipse = (hx, hy, a, b)
    samples = _samples(depth, weight, mask, normals, inside, camera, ellipse, box)
    return Framed(
        pad=pad,
        image=image,
        landmarks=marks,
        eye_distance=d,
        depth=depth,
        weight=weight,
        mask=mask,
        body=body.astype(np.float32),
        normals=normals,
        ellipse=ellipse,
        axis=(hx, float(eye[1] + PITCH_AXIS_Y * d)),
        camera=camera,
        box=box,
        samples=samples,
        image_f32=image.astype(np.float32),
    )


def _samples(
    depth: F64,
    weight: F64,
    mask: F64,
    normals: F64,
    inside: NDArray[np.bool_],
    camera: float,
    ellipse: tuple[float, float, float, float],
    box: tuple[int, int, int, int],
) -> dict[str, NDArray[Any]]:
    """The moving region's sample points, unprojected once (float32).

    Head pixels (inside the ellipse) get 4 sub-samples and move rigidly in 3-D. Band pixels get
    2 and follow, faded by their weight, the image motion of the head's rim point on their ray
    from the head's centre (so the band stays continuous with the head's outline).
    """
    height, width = weight.shape
    cx, cy = width / 2, height / 2
    hx, hy, a, b = ellipse
    x0, y0, x1, y1 = box
    out: dict[str, NDArray[Any]] = {}
    band = (weight > 1e-3) & ~inside
    for name, region, offsets in (("h", inside, _SUBPIXEL), ("b", band, _SUBPIXEL[::3])):
        rows, cols = np.nonzero(region)
        sx = np.concatenate([cols + ox for ox, _ in offsets]).astype(np.float64)
        sy = np.concatenate([rows + oy for _, oy in offsets]).astype(np.float64)
        r, c = np.tile(rows, len(offsets)), np.tile(cols, len(offsets))
        out[f"{name}_sx"], out[f"{name}_sy"] = sx.astype(np.float32), sy.astype(np.float32)
        if name == "h":
            z = depth[r, c]
            px, py = sx, sy
            out["h_n"] = normals[r, c].astype(np.float32)
            out["h_m"] = mask[r, c].astype(np.float32)
        else:  # the rim point (radius 0.97) on the same ray from the head's centre
            u, v = (sx - hx) / a, (sy - hy) / b
            rho = np.maximum(np.hypot(u, v), 1e-6)
            px, py = hx + 0.97 * a * u / rho, hy + 0.97 * b * v / rho
            z = np.full(len(sx), DEPTH * math.sqrt(1 - 0.97**2) * a / HALF_WIDTH)
            out["b_w"] = weight[r, c].astype(np.float32)
            out["b_z"] = (-1.0 - rho).astype(np.float32)  # behind the head, inner band first
            out["b_px"], out["b_py"] = px.astype(np.float32), py.astype(np.float32)
        shrink = (camera - z) / camera  # unproject through the pinhole: X = (x - cx)(Zc - z)/Zc
        out[f"{name}_X"] = ((px - cx) * shrink).astype(np.float32)
        out[f"{name}_Y"] = ((py - cy) * shrink).astype(np.float32)
        out[f"{name}_Z"] = z.astype(np.float32)
    rows, cols = np.nonzero(weight[y0:y1, x0:x1] > 1e-3)
    out["moving"] = (rows * (x1 - x0) + cols).astype(np.intp)
    return out


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
        ``pitch_deg`` (> 0: chin up), moved by ``shift`` (eye distances, x right, y down) and
        ``scale`` (> 1: closer to the camera), in a ``size`` = (width, height) frame.

        Returns:
            The RGB frame; the head's mask (0..1); the surface normal's component toward the
            camera (the screen is beside it, so this is also the screen light's cosine; 1 off
            the head). Cached and read-only.
        """
        return _render(self, size, *_quantised(yaw_deg, pitch_deg, shift, scale))

    def body_map(self, size: tuple[int, int] = FRAME) -> F32:
        """Where the neck and shoulders are in the frame (0..1, static; see :class:`Framed`)."""
        result: F32 = np.ascontiguousarray(self.framed(size).crop(self.framed(size).body))
        return result

    def landmarks_at(
        self,
        yaw_deg: float,
        pitch_deg: float,
        *,
        size: tuple[int, int] = FRAME,
        shift: tuple[float, float] = (0.0, 0.0),
        scale: float = 1.0,
    ) -> F64:
        """Where the five landmarks land in :meth:`render`'s frame (the model's ground truth)."""
        f = self.framed(size)
        marks = f.landmarks
        rows = np.clip(np.rint(marks[:, 1]).astype(np.intp), 0, f.depth.shape[0] - 1)
        cols = np.clip(np.rint(marks[:, 0]).astype(np.intp), 0, f.depth.shape[1] - 1)
        z = f.depth[rows, cols]
        q = _quantised(yaw_deg, pitch_deg, shift, scale)
        x, y, _ = _project(f, marks[:, 0], marks[:, 1], z, *q)
        return np.stack([x, y], axis=1).astype(np.float64) - f.pad


def _quantised(
    yaw_deg: float, pitch_deg: float, shift: tuple[float, float], scale: float
) -> tuple[float, float, float, float, float]:
    """Poses rounded (0.1 degree, 0.005 eye distance) so near-identical ones share a render."""
    return (
        round(yaw_deg * 10) / 10,
        round(pitch_deg * 10) / 10,
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


def _transform(
    f: Framed,
    X: NDArray[np.floating],
    Y: NDArray[np.floating],
    Z: NDArray[np.floating],
    yaw: float,
    pitch: float,
    dx: float,
    dy: float,
    scale: float,
) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]:
    """Rigid head motion of unprojected points, then the pinhole projection: image x, y, z."""
    height, width = f.image.shape[:2]
    cx, cy = width / 2, height / 2
    ax, ay = f.axis[0] - cx, f.axis[1] - cy
    rot = rotation(yaw, pitch).astype(np.float32)
    px, py = X - ax, Y - ay
    d = f.eye_distance
    tz = (1.0 - 1.0 / scale) * f.camera  # nearer by this much: the head looks `scale` x larger
    qx = rot[0, 0] * px + rot[0, 1] * py + rot[0, 2] * Z + (ax + dx * d)
    qy = rot[1, 0] * px + rot[1, 1] * py + rot[1, 2] * Z + (ay + dy * d)
    qz = rot[2, 0] * px + rot[2, 1] * py + rot[2, 2] * Z + tz
    k = f.camera / np.maximum(f.camera - qz, 1.0)
    return cx + qx * k, cy + qy * k, qz


def _project(
    f: Framed,
    x: F64,
    y: F64,
    z: F64,
    yaw: float,
    pitch: float,
    dx: float,
    dy: float,
    scale: float,
) -> tuple[F64, F64, F64]:
    """Image points with their depth -> where they land after the head's motion."""
    height, width = f.image.shape[:2]
    shrink = (f.camera - z) / f.camera
    X, Y = (x - width / 2) * shrink, (y - height / 2) * shrink
    tx, ty, tz = _transform(f, X, Y, z, yaw, pitch, dx, dy, scale)
    return np.asarray(tx, np.float64), np.asarray(ty, np.float64), np.asarray(tz, np.float64)


def _bilinear(image: F32, x: NDArray[np.floating], y: NDArray[np.floating]) -> F32:
    """Sample an ``(H, W, 3)`` image at float positions (clamped to its edges)."""
    height, width = image.shape[:2]
    flat = image.reshape(-1, 3)
    x = np.clip(x, 0.0, width - 1.001)
    y = np.clip(y, 0.0, height - 1.001)
    x0, y0 = x.astype(np.intp), y.astype(np.intp)
    fx, fy = (x - x0)[:, None].astype(np.float32), (y - y0)[:, None].astype(np.float32)
    i = y0 * width + x0
    top = flat[i]
    top += (flat[i + 1] - top) * fx
    bottom = flat[i + width]
    bottom += (flat[i + width + 1] - bottom) * fx
    top += (bottom - top) * fy
    result: F32 = top
    return result


@lru_cache(maxsize=128)
def _render(
    head: HeadModel,
    size: tuple[int, int],
    yaw: float,
    pitch: float,
    dx: float,
    dy: float,
    scale: float,
) -> tuple[RGB, F32, F32]:
    f = head.framed(size)
    s = f.samples
    x0, y0, x1, y1 = f.box
    bw, bh = x1 - x0, y1 - y0
    pose = (yaw, pitch, dx, dy, scale)
    hx_, hy_, hz = _transform(f, s["h_X"], s["h_Y"], s["h_Z"], *pose)
    rx, ry, _ = _transform(f, s["b_X"], s["b_Y"], s["b_Z"], *pose)
    w = s["b_w"]
    bx_ = s["b_sx"] + w * (rx - s["b_px"])
    by_ = s["b_sy"] + w * (ry - s["b_py"])
    xt = np.concatenate([hx_, bx_]) - x0
    yt = np.concatenate([hy_, by_]) - y0
    zt = np.concatenate([hz, s["b_z"]])
    sx = np.concatenate([s["h_sx"], s["b_sx"]]) - x0
    sy = np.concatenate([s["h_sy"], s["b_sy"]]) - y0
    n_head = len(hz)
    tx, ty = np.rint(xt).astype(np.intp), np.rint(yt).astype(np.intp)
    keep = np.flatnonzero((tx >= 0) & (tx < bw) & (ty >= 0) & (ty < bh))
    lin = ty[keep] * bw + tx[keep]
    z_in = zt[keep]
    total = bw * bh
    zbuf = np.zeros(total, dtype=np.float32)  # the static background is at depth 0
    zbuf[s["moving"]] = -np.inf  # the moving region is empty until a point lands there
    np.maximum.at(zbuf, lin, z_in)
    won = z_in >= zbuf[lin]
    idx, target = keep[won], lin[won]
    grid = np.arange(total)
    src_x = (grid % bw).astype(np.float32)
    src_y = (grid // bw).astype(np.float32)
    # the winning point's source position, corrected by where it landed inside its pixel
    src_x[target] = sx[idx] + (tx[idx] - xt[idx])
    src_y[target] = sy[idx] + (ty[idx] - yt[idx])
    mask = np.zeros(total, dtype=np.float32)
    facing = np.ones(total, dtype=np.float32)
    on_head = idx < n_head
    head_idx, head_target = idx[on_head], target[on_head]
    mask[head_target] = s["h_m"][head_idx]
    rot = rotation(yaw, pitch).astype(np.float32)
    facing[head_target] = np.clip(s["h_n"][head_idx] @ rot[2], 0.0, 1.0)
    holes = np.isinf(zbuf)
    if holes.any():
        _, (iy, ix) = ndimage.distance_transform_cdt(holes.reshape(bh, bw), return_indices=True)
        near = (iy * bw + ix).ravel()[holes]
        src_x[holes], src_y[holes] = src_x[near], src_y[near]
        mask[holes], facing[holes] = mask[near], facing[near]
    changed = np.zeros(total, dtype=bool)
    changed[s["moving"]] = True
    changed[target] = True
    changed_idx = np.flatnonzero(changed)
    image = f.image.copy()
    region = image[y0:y1, x0:x1].reshape(total, 3)
    sampled = _bilinear(f.image_f32, src_x[changed_idx] + x0, src_y[changed_idx] + y0)
    region[changed_idx] = np.clip(sampled + 0.5, 0, 255).astype(np.uint8)
    image[y0:y1, x0:x1] = region.reshape(bh, bw, 3)
    full_mask = np.zeros(image.shape[:2], dtype=np.float32)
    full_mask[y0:y1, x0:x1] = mask.reshape(bh, bw)
    full_facing = np.ones(image.shape[:2], dtype=np.float32)
    full_facing[y0:y1, x0:x1] = facing.reshape(bh, bw)
    p, (width, height) = f.pad, size
    crop = (slice(p, p + height), slice(p, p + width))
    out = (
        np.ascontiguousarray(image[crop]),
        np.ascontiguousarray(full_mask[crop]),
        np.ascontiguousarray(full_facing[crop]),
    )
    for array in out:
        array.flags.writeable = False
    return out
