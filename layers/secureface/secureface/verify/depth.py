"""Is the face a 3-D head or a flat picture? (the geometry half of the liveness check)

Any two views of a plane — a print or a screen, tilted, moved, seen in perspective — are
related by a homography (a 3 x 3 projective map): every pixel of one view lands on its twin in
the other. A head is not a plane: as it turns, the nose moves across the cheeks (parallax), and
no homography maps one view onto the other.

So for the baseline frame and each move's peak frame the server matches the PIXELS of the inner
face (not a landmark model's guesses: a network regresses landmarks with a face prior and may
place them "in 3-D" on a flat picture, and YuNet's five points on a strongly foreshortened print
were measured to deviate as much as a real head's):

1. a first homography from the five YuNet points;
2. a grid of patches over the inner face (eyes to mouth) of the baseline, warped by the current
   homography into the peak's geometry and matched there by normalised cross-correlation
   (sub-pixel), then the homography refitted on all matches; three rounds, searching ±12, ±6
   and ±3 px, so a plane's homography is found even from a poor start;
3. what the best homography leaves over: the RMS distance of the matches (the worst 10 %
   dropped as mismatches), in eye distances.

A flat picture leaves the matching noise (measured 0.006–0.01 eye distances on prints tilted
30–60°); a real head's parallax leaves several times more (docs/LIVENESS.md). Every move must
show depth (``flat`` otherwise), so a print cannot be swapped in for one move.

This decides geometry, not identity or liveness alone: a 3-D mask passes it (docs/SECURITY.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from PIL import Image

from secureface.face.inference import RGBImage


@dataclass(frozen=True)
class DepthResult:
    """The geometry check's verdict.

    Attributes:
        passed: every move showed depth.
        reason: ``ok`` or ``flat``.
        residuals: for each move, the RMS residual after the homography, in eye distances.
    """

    passed: bool
    reason: str
    residuals: tuple[float, ...]

    @property
    def detail(self) -> str:
        return "residuals " + ", ".join(f"{r:.4f}" for r in self.residuals)


def _normaliser(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Hartley normalisation: centroid to 0, mean distance sqrt(2)."""
    centre = points.mean(axis=0)
    spread = float(np.mean(np.linalg.norm(points - centre, axis=1))) or 1.0
    s = np.sqrt(2) / spread
    return np.array([[s, 0, -s * centre[0]], [0, s, -s * centre[1]], [0, 0, 1.0]])


def fit_homography(source: NDArray[np.float64], target: NDArray[np.float64]) -> NDArray[np.float64]:
    """The least-squares homography mapping ``source`` points onto ``target`` points.

    Args:
        source: ``(n, 2)`` points, ``n >= 4``.
        target: ``(n, 2)`` points.

    Returns:
        ``H`` (3 x 3, ``H[2, 2] = 1`` where possible).

    Raises:
        ValueError: fewer than four points or mismatched shapes.
    """
    if source.shape != target.shape or source.ndim != 2 or source.shape[0] < 4:
        raise ValueError(f"need n >= 4 matching points, got {source.shape} and {target.shape}")
    ts, tt = _normaliser(source), _normaliser(target)
    a = np.c_[source, np.ones(len(source))] @ ts.T
    b = np.c_[target, np.ones(len(target))] @ tt.T
    rows = []
    for (x, y, w), (u, v, z) in zip(a, b, strict=True):
        rows.append([0, 0, 0, -z * x, -z * y, -z * w, v * x, v * y, v * w])
        rows.append([z * x, z * y, z * w, 0, 0, 0, -u * x, -u * y, -u * w])
    _, _, vt = np.linalg.svd(np.asarray(rows))
    h: NDArray[np.float64] = np.linalg.inv(tt) @ vt[-1].reshape(3, 3) @ ts
    return h / h[2, 2] if abs(h[2, 2]) > 1e-12 else h


def planar_residual(
    source: NDArray[np.float64], target: NDArray[np.float64], scale: float
) -> float:
    """RMS distance between ``target`` and ``source`` mapped by the best homography, / ``scale``."""
    h = fit_homography(source, target)
    mapped = np.c_[source, np.ones(len(source))] @ h.T
    mapped = mapped[:, :2] / np.where(np.abs(mapped[:, 2:]) < 1e-12, 1e-12, mapped[:, 2:])
    return float(np.sqrt(np.mean(np.sum((mapped - target) ** 2, axis=1)))) / max(scale, 1e-6)


def check_depth(residuals: Sequence[float], min_residual: float) -> DepthResult:
    """Every move's residual must reach ``min_residual`` (eye distances)."""
    passed = bool(residuals) and min(residuals) >= min_residual
    return DepthResult(passed, "ok" if passed else "flat", tuple(residuals))


#: Patch half-size, search radii of the three rounds, grid step and margins (eye distances).
PATCH_HALF = 5
SEARCH_RADII = (16, 8, 4, 2)
GRID_STEP = 0.15
MIN_NCC = 0.8
MIN_MATCHES = 12


def _grey(image: RGBImage) -> NDArray[np.float32]:
    result: NDArray[np.float32] = image.astype(np.float32) @ np.array(
        [0.299, 0.587, 0.114], dtype=np.float32
    )
    return result


def _warp(grey: NDArray[np.float32], h: NDArray[np.float64]) -> NDArray[np.float32]:
    inverse = np.linalg.inv(h)
    inverse /= inverse[2, 2]
    picture = Image.fromarray(grey).transform(
        (grey.shape[1], grey.shape[0]),
        Image.Transform.PERSPECTIVE,
        tuple(float(v) for v in inverse.flatten()[:8]),
        Image.Resampling.BILINEAR,
    )
    return np.asarray(picture, dtype=np.float32)


def _apply(h: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    mapped = np.c_[points, np.ones(len(points))] @ h.T
    result: NDArray[np.float64] = mapped[:, :2] / np.where(
        np.abs(mapped[:, 2:]) < 1e-12, 1e-12, mapped[:, 2:]
    )
    return result


def _match(
    warped: NDArray[np.float32],
    target: NDArray[np.float32],
    centres: NDArray[np.float64],
    radius: int,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """For each centre: is its patch of ``warped`` found in ``target`` within ``radius``, and
    where (sub-pixel)."""
    k = 2 * PATCH_HALF + 1
    height, width = target.shape
    c = np.rint(centres).astype(np.intp)
    margin = PATCH_HALF + radius + 1
    ok = (c[:, 0] >= margin) & (c[:, 1] >= margin) & (c[:, 0] < width - margin)
    ok &= c[:, 1] < height - margin
    found = np.zeros(len(c), dtype=bool)
    where = np.zeros((len(c), 2))
    if not ok.any():
        return found, where
    idx = np.flatnonzero(ok)
    windows = sliding_window_view(target, (k, k))
    offsets = np.arange(-radius, radius + 1)
    ys = c[idx, 1, None, None] - PATCH_HALF + offsets[None, :, None]
    xs = c[idx, 0, None, None] - PATCH_HALF + offsets[None, None, :]
    candidates = windows[ys, xs]  # (n, 2r+1, 2r+1, k, k)
    py = c[idx, 1, None] - PATCH_HALF + np.arange(k)[None, :]
    px = c[idx, 0, None] - PATCH_HALF + np.arange(k)[None, :]
    patches = warped[py[:, :, None], px[:, None, :]]  # (n, k, k)
    a = patches - patches.mean(axis=(1, 2), keepdims=True)
    textured = a.std(axis=(1, 2)) >= 4.0
    a /= np.linalg.norm(a, axis=(1, 2), keepdims=True) + 1e-6
    b = candidates - candidates.mean(axis=(3, 4), keepdims=True)
    ncc = np.einsum("nijab,nab->nij", b, a) / (np.linalg.norm(b, axis=(3, 4)) + 1e-6)
    flat = ncc.reshape(len(idx), -1)
    best = flat.argmax(axis=1)
    iy, ix = np.divmod(best, 2 * radius + 1)
    score = flat[np.arange(len(idx)), best]
    rows, top = np.arange(len(idx)), 2 * radius
    dy = _vertex(
        ncc[rows, np.clip(iy - 1, 0, top), ix], score, ncc[rows, np.clip(iy + 1, 0, top), ix]
    )
    dx = _vertex(
        ncc[rows, iy, np.clip(ix - 1, 0, top)], score, ncc[rows, iy, np.clip(ix + 1, 0, top)]
    )
    dy[(iy == 0) | (iy == top)] = 0.0
    dx[(ix == 0) | (ix == top)] = 0.0
    found[idx] = textured & (score >= MIN_NCC)
    where[idx, 0] = c[idx, 0] + ix - radius + dx
    where[idx, 1] = c[idx, 1] + iy - radius + dy
    return found, where


def _vertex(
    left: NDArray[np.float32], mid: NDArray[np.float32], right: NDArray[np.float32]
) -> NDArray[np.float64]:
    """Sub-pixel offset of a peak from its two neighbours (a parabola through three points)."""
    den = (left - 2 * mid + right).astype(np.float64)
    safe = np.where(den < 0, den, -1.0)
    result: NDArray[np.float64] = np.where(den < 0, 0.5 * (left - right) / safe, 0.0)
    return np.clip(result, -0.5, 0.5)


def dense_planar_residual(
    baseline: RGBImage,
    peak: RGBImage,
    baseline_points: NDArray[np.float64],
    peak_points: NDArray[np.float64],
) -> float | None:
    """What the best homography leaves of the inner face's pixel motion, in eye distances.

    Args:
        baseline: the baseline frame.
        peak: a move's peak frame (same size).
        baseline_points: the baseline face's five YuNet points.
        peak_points: the peak face's five YuNet points (the first guess only).

    Returns:
        The residual, or ``None`` when too few patches could be matched (nothing to measure:
        the caller refuses, it does not pass).
    """
    d = float(np.hypot(*(baseline_points[1] - baseline_points[0])))
    eyes_y = float(baseline_points[:2, 1].mean())
    mouth_y = float(baseline_points[3:, 1].mean())
    xs = np.arange(
        baseline_points[:, 0].min() - 0.2 * d, baseline_points[:, 0].max() + 0.2 * d, GRID_STEP * d
    )
    ys = np.arange(eyes_y - 0.2 * d, mouth_y + 0.15 * d, GRID_STEP * d)
    grid = np.array([(x, y) for y in ys for x in xs], dtype=np.float64)
    h = fit_homography(baseline_points, peak_points)
    source, target = _grey(baseline), _grey(peak)
    for radius in SEARCH_RADII:
        found, where = _match(_warp(source, h), target, _apply(h, grid), radius)
        if found.sum() < MIN_MATCHES:
            return None
        h = fit_homography(grid[found], where[found])
    errors = np.sort(np.linalg.norm(_apply(h, grid[found]) - where[found], axis=1))
    kept = errors[: max(MIN_MATCHES, int(len(errors) * 0.8))]
    return float(np.sqrt(np.mean(kept**2))) / max(d, 1e-6)
