"""Is the face a 3-D head or a flat picture? (the geometry half of the liveness check)

Any two views of a plane — a print or a screen, tilted, moved, seen in perspective — are
related by a homography (a 3 x 3 projective map): every point of one view lands on its twin in
the other. A head is not a plane: as it turns, the nose moves across the cheeks (parallax), and
no homography maps one view onto the other.

So for the baseline frame and each move's peak frame the server takes the face mesh's 468
points (:func:`secureface.face.detect_mesh`), fits the best homography between the two views by
least squares (normalised DLT) and measures what it leaves over: the RMS distance of the points,
in eye distances. Measured (docs/LIVENESS.md): flat prints tilted up to ±40° and raised or
lowered leave 0.006–0.043; heads turned 20–35° leave 0.052–0.19. Every move must show depth
(``flat`` otherwise), so a print cannot be swapped in for one move.

Why the mesh and not the five YuNet points: a homography has 8 degrees of freedom, so five
points leave only two to measure with, and YuNet's points on a strongly foreshortened print were
measured to move as much as a real head's (0.08–0.13 for prints at 60° against 0.03–0.06 for
heads at 15–20°). A dense match of the face's pixels (patches matched across the views) was
tried too: it separates most prints (0.006–0.009) from heads (0.022–0.04) but not all (up to
0.034 for a low-resolution print at 60° close to the camera) and costs 100–200 ms a pair, ten
times the mesh.

This decides geometry, not identity or liveness alone: a 3-D mask passes it (docs/SECURITY.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


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


def check_depth(residuals: Sequence[float], min_residual: float, outliers: int = 0) -> DepthResult:
    """Every move's residual but ``outliers`` must reach ``min_residual`` (eye distances); when
    an outlier is allowed, at least two moves must reach it (a plane reaches it in none)."""
    reaching = sum(r >= min_residual for r in residuals)
    passed = reaching >= max(1, len(residuals) - outliers) and (outliers == 0 or reaching >= 2)
    return DepthResult(passed, "ok" if passed else "flat", tuple(residuals))
