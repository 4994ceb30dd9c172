"""Does the face mesh tell a tilted flat photo from a turned 3-D head? (not part of ``python -m
bench``; run ``python -m bench.mesh_parallax``).

For each face, the 468 mesh points ``(x, y)`` of the frontal frame are mapped onto those of a
moved frame by the best 2-D homography (normalised DLT, then Gauss-Newton on the reprojection
error); what the homography cannot explain is parallax. A flat photo moved in front of a pinhole
camera is exactly a homography of itself, so only the model's noise remains; a head turned in
3-D is not. Residual = RMS over the points of ``|H(p) - q|``, divided by the frontal frame's
inter-ocular distance (mesh eye centres).

Moves (all rendered from ONE photo per person, nothing downloaded):

- ``flat yaw``/``flat pitch``: the photo tilted about a vertical / horizontal axis through the
  face (:func:`facesynth.faces.tilt_photo`, camera distance 1.2 x the image width, a webcam's
  focal length; the horizontal axis by transposing the picture);
- ``head yaw``: :func:`facesynth.faces.rotate_head` (ellipsoid head, row-wise re-rendering);
- ``sim yaw``/``sim pitch``: ``tools/livesim`` (3-D head, z-buffer, pinhole camera at 7.1 eye
  distances) against its own frontal frame and, for the flat rows of that frame, its frontal frame
  tilted by a homography;
- ``bent yaw``: the photo bent around a vertical cylinder (radius 1.5 eye distances, a print
  curved around a bottle, convex toward the camera) and turned about the cylinder's axis
  (orthographic, row-wise re-rendering with occlusion as ``rotate_head``), against the same bent
  print unturned: a print that is no longer flat;
- ``recapture``: the same photo jittered (scale, shift, brightness, noise) and JPEG'd: the floor.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from facesynth import people
from facesynth.faces import from_jpeg, jitter, rotate_head, tilt_photo, to_jpeg
from facesynth.models import model
from secureface.adapters.onnx_runtime import OnnxModel
from secureface.face import detect_faces
from secureface.face.inference import RGBImage
from secureface.face.mesh import detect_mesh, eye_centres

ROOT = Path(__file__).resolve().parents[1]
FACES = ("astronaut", "group1", "group0", "group4")
ANGLES = (20.0, 30.0, 40.0)
F64 = NDArray[np.float64]


def mesh_model() -> OnnxModel:
    """The face mesh model from s3-uploads (role ``landmarks``)."""
    return model("landmarks")


def fit_homography(source: F64, target: F64, iterations: int = 10) -> F64:
    """The 3 x 3 homography mapping ``source`` (n, 2) onto ``target`` (n, 2), least squares."""

    def normaliser(points: F64) -> F64:
        centre = points.mean(axis=0)
        scale = math.sqrt(2.0) / float(np.sqrt(((points - centre) ** 2).sum(axis=1)).mean())
        return np.array([[scale, 0, -scale * centre[0]], [0, scale, -scale * centre[1]], [0, 0, 1]])

    ts, tt = normaliser(source), normaliser(target)
    s = _apply(ts, source)
    t = _apply(tt, target)
    rows = []
    for (x, y), (u, v) in zip(s, t, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, _, vt = np.linalg.svd(np.asarray(rows))
    h = np.linalg.inv(tt) @ vt[-1].reshape(3, 3) @ ts
    h = h / h[2, 2]
    params = h.ravel()[:8].copy()
    for _ in range(iterations):  # Gauss-Newton on the geometric error
        h = np.append(params, 1.0).reshape(3, 3)
        residual = (_apply(h, source) - target).ravel()
        jacobian = np.empty((residual.size, 8))
        for k in range(8):
            step = 1e-7 * max(1.0, abs(params[k]))
            moved = params.copy()
            moved[k] += step
            hk = np.append(moved, 1.0).reshape(3, 3)
            jacobian[:, k] = ((_apply(hk, source) - target).ravel() - residual) / step
        delta, *_ = np.linalg.lstsq(jacobian, -residual, rcond=None)
        params += delta
        if np.abs(delta).max() < 1e-12:
            break
    return np.append(params, 1.0).reshape(3, 3)


def _apply(h: F64, points: F64) -> F64:
    homogeneous = np.hstack([points, np.ones((len(points), 1))]) @ h.T
    result: F64 = homogeneous[:, :2] / homogeneous[:, 2:]
    return result


def residual(frontal: F64, moved: F64, iod: float) -> float:
    h = fit_homography(frontal, moved)
    return float(np.sqrt(((_apply(h, frontal) - moved) ** 2).sum(axis=1).mean())) / iod


def mesh_xy(mesh: OnnxModel, image: RGBImage) -> F64:
    faces = detect_faces(model("detector"), image)
    if len(faces) != 1:
        raise ValueError(f"{len(faces)} faces")
    found = detect_mesh(mesh, image, faces[0])
    return found.points[:, :2].astype(np.float64)


def tilt(image: RGBImage, axis: float, degrees: float, *, horizontal: bool) -> RGBImage:
    if not horizontal:
        return tilt_photo(image, axis, degrees, 1.2 * image.shape[1])
    turned = np.ascontiguousarray(image.transpose(1, 0, 2))
    return np.ascontiguousarray(
        tilt_photo(turned, axis, degrees, 1.2 * image.shape[1]).transpose(1, 0, 2)
    )


def bend_photo(image: RGBImage, cx: float, radius: float, degrees: float) -> RGBImage:
    """The photo wrapped on a vertical cylinder (axis at ``x = cx``, ``radius`` px, bulging toward
    the camera; beyond a quarter turn the print runs straight back), turned by ``degrees`` about
    that axis (> 0: its right side moves back), seen orthographically."""
    if degrees < 0:
        mirror = np.ascontiguousarray(image[:, ::-1])
        bent = bend_photo(mirror, image.shape[1] - 1 - cx, radius, -degrees)
        return np.ascontiguousarray(bent[:, ::-1])
    t = math.radians(degrees)
    columns = np.arange(image.shape[1], dtype=np.float64)
    arc = columns - cx  # position along the print
    quarter = radius * math.pi / 2
    phi = np.clip(arc / radius, -math.pi / 2, math.pi / 2)
    across = radius * np.sin(phi)
    toward = radius * np.cos(phi) - np.maximum(np.abs(arc) - quarter, 0.0)
    target = cx + across * math.cos(t) + toward * math.sin(t)
    visible = np.empty(len(columns), dtype=bool)
    visible[0] = True
    visible[1:] = target[1:] > np.maximum.accumulate(target)[:-1]
    source = np.interp(columns, target[visible], columns[visible])
    left = np.clip(np.floor(source).astype(np.intp), 0, len(columns) - 2)
    frac = (source - left)[np.newaxis, :, np.newaxis].astype(np.float32)
    pixels = image.astype(np.float32)
    mixed = pixels[:, left] * (1 - frac) + pixels[:, left + 1] * frac
    result: RGBImage = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return result


def rows_for(mesh: OnnxModel, name: str) -> list[tuple[str, str, float, float]]:
    """``(face, move, degrees, residual / IOD)`` for one person."""
    image = people.person(name)
    (face,) = detect_faces(model("detector"), image)
    marks = face.landmarks
    frontal = mesh_xy(mesh, image)
    iod = float(np.hypot(*np.subtract(*eye_centres(frontal)[::-1])))
    eyes_x = (marks[0][0] + marks[1][0]) / 2
    eyes_y = (marks[0][1] + marks[1][1]) / 2
    bent_frontal = mesh_xy(mesh, bend_photo(image, eyes_x, 1.5 * iod, 0.0))
    out = []
    rng = np.random.default_rng(7)
    for k in range(3):
        again = from_jpeg(to_jpeg(jitter(image, rng)))
        out.append((name, "recapture", float(k), residual(frontal, mesh_xy(mesh, again), iod)))
    for degrees in ANGLES:
        for sign in (1, -1):
            a = sign * degrees
            cases = {
                "flat yaw": tilt(image, eyes_x, a, horizontal=False),
                "flat pitch": tilt(image, eyes_y, a, horizontal=True),
                "head yaw": rotate_head(image, marks, a),
            }
            for move, picture in cases.items():
                out.append((name, move, a, residual(frontal, mesh_xy(mesh, picture), iod)))
            bent = bend_photo(image, eyes_x, 1.5 * iod, a)  # against the bent print, unturned
            out.append((name, "bent yaw", a, residual(bent_frontal, mesh_xy(mesh, bent), iod)))
    out += sim_rows(mesh, name, image)
    return out


def sim_rows(mesh: OnnxModel, name: str, image: RGBImage) -> list[tuple[str, str, float, float]]:
    sys.path.insert(0, str(ROOT / "tools"))
    from livesim.head import HeadModel  # type: ignore[import-not-found]  # tools/ on the path

    head = HeadModel.from_photo(image)
    base = np.ascontiguousarray(head.render(0.0, 0.0)[0])
    frontal = mesh_xy(mesh, base)
    iod = float(np.hypot(*np.subtract(*eye_centres(frontal)[::-1])))
    (face,) = detect_faces(model("detector"), base)
    ex = (face.landmarks[0][0] + face.landmarks[1][0]) / 2
    ey = (face.landmarks[0][1] + face.landmarks[1][1]) / 2
    out = []
    for degrees in ANGLES:
        for sign in (1, -1):
            a = sign * degrees
            cases = {
                "sim flat yaw": tilt(base, ex, a, horizontal=False),
                "sim flat pitch": tilt(base, ey, a, horizontal=True),
                "sim yaw": np.ascontiguousarray(head.render(a, 0.0)[0]),
                "sim pitch": np.ascontiguousarray(head.render(0.0, a)[0]),
            }
            for move, picture in cases.items():
                try:
                    value = residual(frontal, mesh_xy(mesh, picture), iod)
                except ValueError:
                    value = float("nan")
                out.append((name, move, a, value))
    return out


def timing(mesh: OnnxModel) -> tuple[float, float]:
    """Median ms of one model run and of :func:`detect_mesh` (2 passes, crops included)."""
    image = people.astronaut()
    (face,) = detect_faces(model("detector"), image)
    tensor = np.random.default_rng(0).uniform(0, 1, (1, 192, 192, 3)).astype(np.float32)
    runs, full = [], []
    for _ in range(10):
        mesh.run({"input_1": tensor})
    for _ in range(200):
        start = time.perf_counter()
        mesh.run({"input_1": tensor})
        runs.append(time.perf_counter() - start)
    for _ in range(100):
        start = time.perf_counter()
        detect_mesh(mesh, image, face)
        full.append(time.perf_counter() - start)
    return float(np.median(runs)) * 1000, float(np.median(full)) * 1000


def main() -> int:
    mesh = mesh_model()
    rows = [row for name in FACES for row in rows_for(mesh, name)]
    for face, move, degrees, value in rows:
        print(f"{face:10} {move:15} {degrees:+5.0f} {value:.4f}")
    print("\nmin-max over the faces and both signs of each angle:")
    summary: dict[tuple[str, float], list[float]] = {}
    for _, move, degrees, value in rows:
        key = (move, 0.0 if move == "recapture" else abs(degrees))
        summary.setdefault(key, []).append(value)
    for (move, degrees), values in summary.items():
        print(f"{move:15} {degrees:3.0f}  {min(values):.3f}-{max(values):.3f}")
    run_ms, full_ms = timing(mesh)
    print(f"one mesh run: {run_ms:.2f} ms; detect_mesh (2 passes + crops): {full_ms:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
