"""Does the face reflect THIS session's light, in time? (the light half of the liveness check)

The model (its assumptions are listed in docs/LIVENESS.md). A surface point of albedo ``a`` lit
by the room (``E``) and by the screen (``S · c(t)``, ``c`` the colour the page shows, linear RGB)
records ``a · (E + S · c(t))`` per channel. In log space the albedo drops out of every change::

    log I_k(t) = log(a_k E_k) + log(1 + (S_k / E_k) · c_k(t))  ≈  const_k + s · c_k(t)

so the face's log-chromaticity (log RGB minus its channel mean: exposure and brightness cancel)
moves with the screen colour's own chromaticity, whatever the skin tone, with a gain ``s`` that
grows with the screen's share of the face's light. The six palette colours lie 60° apart on the
chromaticity plane, so each interval's colour can be read back from the direction in which the
face's colour moved — which is how this module checks the schedule:

1. the face's and the background's mean linear RGB per frame → 2-D log-chromaticity;
2. for each lag in :data:`LAGS_MS` (the screen's and the camera's latency), a least-squares fit
   ``chroma(t) = drift(t, pose) + s · chroma(c(t - lag))`` with, per coordinate, a cubic drift
   in time (auto-exposure, auto-white-balance) and a quadratic in each pose cue (the head turns
   other skin and shading toward the camera as it moves; :func:`drift_basis`);
3. the best lag's gain ``s`` must reach :attr:`LightThresholds.min_gain` (a screen replay and a
   photo animated in advance answer with ~0);
4. each interval of the schedule is decoded from the face's drift-free colour (fitted without
   that interval: no peeking) to the nearest palette colour; at least
   :attr:`LightThresholds.min_decoded` of all intervals and :attr:`LightThresholds.min_window`
   of those in every move window must come out right (a recording of another session's light
   decodes ~1 in 5: eight or more of eleven by chance, P < 0.0004);
5. the background's gain must stay below :attr:`LightThresholds.max_background_ratio` of the
   face's: the screen lights a face ~40 cm away far more than a wall behind it, while a tint
   added to the whole frame by an injected stream lights both alike.

Pure numpy; about 1 ms for a 60-frame burst.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from secureface.sessions.challenge import PALETTE, Challenge

#: Lags tried between the page's colour and the frame that shows it, ms: the display's latency
#: (one to three 60 Hz frames) plus the camera's exposure and pipeline (one to two 30 fps frames)
#: minus clock differences between requestAnimationFrame and the frame's capture time.
LAGS_MS = tuple(range(-60, 301, 20))
#: Frames this close after an interval starts (after the lag) are left out of its decoding: the
#: exposure straddles two colours.
SETTLE_MS = 40
#: Floor of a channel mean before the log (linear light, 0..1).
EPSILON = 1e-3
#: The chromaticity plane: log RGB projected on two orthonormal zero-sum axes.
_PLANE = np.array(
    [[1 / np.sqrt(2), -1 / np.sqrt(2), 0.0], [1 / np.sqrt(6), 1 / np.sqrt(6), -2 / np.sqrt(6)]]
)


@dataclass(frozen=True)
class LightThresholds:
    """Decision thresholds of the light check (measured in docs/LIVENESS.md).

    Attributes:
        min_gain: least fitted gain ``s`` of the face's chromaticity on the screen's.
        min_decoded: least fraction of the schedule's intervals decoded to the right colour.
        min_window: least fraction decoded right in every move window.
        max_background_ratio: largest background gain as a fraction of the face's.
    """

    min_gain: float = 0.075
    min_decoded: float = 0.65
    min_window: float = 0.3
    max_background_ratio: float = 0.5


@dataclass(frozen=True)
class LightResult:
    """The measurements of the light check (the log's, never the client's).

    Attributes:
        passed: every rule held.
        reason: ``ok``, ``light_not_reflected`` (gain or decoding) or ``uniform_tint``.
        lag_ms: the best lag.
        gain: the face's fitted gain at that lag.
        background_gain: the background's.
        decoded: fraction of intervals decoded right.
        worst_window: the lowest fraction decoded right in one move window.
    """

    passed: bool
    reason: str
    lag_ms: int
    gain: float
    background_gain: float
    decoded: float
    worst_window: float

    @property
    def detail(self) -> str:
        return (
            f"lag {self.lag_ms} ms, gain {self.gain:.4f}, background {self.background_gain:.4f}, "
            f"decoded {self.decoded:.2f}, worst window {self.worst_window:.2f}"
        )


def chromaticity(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(n, 3)`` linear RGB → ``(n, 2)`` log-chromaticity (brightness cancels)."""
    logs = np.log(np.maximum(rgb, EPSILON))
    result: NDArray[np.float64] = logs @ _PLANE.T
    return result


def palette_chromaticity(
    palette: Mapping[str, tuple[int, int, int]] = PALETTE,
) -> dict[str, NDArray[np.float64]]:
    """The chromaticity direction each screen colour pushes a lit surface toward."""
    out = {}
    for name, srgb in palette.items():
        linear = srgb_to_linear(np.asarray(srgb, dtype=np.float64) / 255.0)
        out[name] = linear @ _PLANE.T
    return out


def srgb_to_linear(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """IEC 61966-2-1 decoding of 0..1 sRGB values."""
    result: NDArray[np.float64] = np.where(
        values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4
    )
    return result


def check_light(
    challenge: Challenge,
    times_ms: Sequence[int],
    face_rgb: NDArray[np.float64],
    background_rgb: NDArray[np.float64],
    thresholds: LightThresholds = LightThresholds(),  # noqa: B008 (frozen, immutable)
    pose: NDArray[np.float64] | None = None,
) -> LightResult:
    """Check that the face's colour follows ``challenge``'s light schedule (module docstring).

    Args:
        challenge: the session's challenge (light mode).
        times_ms: each frame's capture time relative to the challenge's time zero.
        face_rgb: ``(n, 3)`` mean linear RGB of the face in each frame.
        background_rgb: ``(n, 3)`` mean linear RGB of the background in each frame.
        thresholds: decision thresholds.
        pose: ``(n, k)`` the head's pose cues per frame (e.g. yaw and rise), absorbed as drift.
    """
    times = np.asarray(times_ms, dtype=np.float64)
    basis = drift_basis(times, None if pose is None else np.asarray(pose, dtype=np.float64))
    face = chromaticity(np.asarray(face_rgb, dtype=np.float64))
    background = chromaticity(np.asarray(background_rgb, dtype=np.float64))
    intervals = challenge.light_intervals()
    directions = palette_chromaticity()
    best = max(
        LAGS_MS, key=lambda lag: _fit(face, _expected(times - lag, intervals, directions), basis)[0]
    )
    expected = _expected(times - best, intervals, directions)
    gain = _fit(face, expected, basis)[0]
    background_gain = _fit(background, expected, basis)[0]
    index = _interval_index(times - best, intervals)
    right = _decode(face, expected, times, basis, index, intervals, directions)
    decoded = float(np.mean(right)) if len(right) else 0.0
    worst = _worst_window(challenge, intervals, right)
    reason = "ok"
    weak = gain < thresholds.min_gain or decoded < thresholds.min_decoded
    if weak or worst < thresholds.min_window:
        reason = "light_not_reflected"
    elif background_gain > thresholds.max_background_ratio * gain:
        reason = "uniform_tint"
    return LightResult(reason == "ok", reason, best, gain, background_gain, decoded, worst)


def _expected(
    times: NDArray[np.float64],
    intervals: Sequence[tuple[str, int, int]],
    directions: Mapping[str, NDArray[np.float64]],
) -> NDArray[np.float64]:
    """``(n, 2)``: the chromaticity of the colour shown at each (lagged) time."""
    index = _interval_index(times, intervals)
    clipped = np.clip(index, 0, len(intervals) - 1)
    table = np.stack([directions[colour] for colour, _, _ in intervals])
    result: NDArray[np.float64] = table[clipped]
    return result


def _interval_index(
    times: NDArray[np.float64], intervals: Sequence[tuple[str, int, int]]
) -> NDArray[np.intp]:
    """The interval each time falls in; -1 before the first, ``len`` after the last."""
    starts = np.array([start for _, start, _ in intervals], dtype=np.float64)
    index = np.searchsorted(starts, times, side="right") - 1
    end = intervals[-1][2] if intervals else 0
    index[times >= end] = len(intervals)
    return index


def drift_basis(
    times: NDArray[np.float64], pose: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """What the face's colour may do besides following the screen: a cubic drift over the burst
    (Legendre polynomials on [-1, 1]: exposure, white balance), and, given the head's pose per
    frame (columns such as yaw and rise), a quadratic in each (the face turns other skin and
    shading toward the camera as it moves)."""
    span = max(float(times.max() - times.min()), 1.0)
    x = 2.0 * (times - times.min()) / span - 1.0
    columns = [np.ones_like(x), x, (3 * x**2 - 1) / 2, (5 * x**3 - 3 * x) / 2]
    for cue in () if pose is None else pose.T:
        centred = cue - cue.mean()
        scale = float(np.abs(centred).max()) or 1.0
        columns += [centred / scale, (centred / scale) ** 2]
    return np.stack(columns, axis=1)


def _fit(
    observed: NDArray[np.float64],
    expected: NDArray[np.float64],
    basis: NDArray[np.float64],
    mask: NDArray[np.bool_] | None = None,
) -> tuple[float, NDArray[np.float64]]:
    """Least squares ``observed = drift + s · expected`` (one ``s``, a drift per coordinate).

    Returns:
        ``s`` and the drift-free observation ``observed - drift`` of every frame.
    """
    n, k = basis.shape
    rows = np.zeros((2 * n, 2 * k + 1))
    rows[:n, :k], rows[n:, k : 2 * k] = basis, basis
    rows[:, -1] = np.concatenate([expected[:, 0], expected[:, 1]])
    target = np.concatenate([observed[:, 0], observed[:, 1]])
    use = np.ones(2 * n, dtype=bool) if mask is None else np.concatenate([mask, mask])
    if use.sum() <= rows.shape[1]:
        return 0.0, observed * 0.0
    solution, *_ = np.linalg.lstsq(rows[use], target[use], rcond=None)
    drift = np.stack([basis @ solution[:k], basis @ solution[k : 2 * k]], axis=1)
    return float(solution[-1]), observed - drift


def _decode(
    face: NDArray[np.float64],
    expected: NDArray[np.float64],
    times: NDArray[np.float64],
    basis: NDArray[np.float64],
    index: NDArray[np.intp],
    intervals: Sequence[tuple[str, int, int]],
    directions: Mapping[str, NDArray[np.float64]],
) -> list[bool]:
    """For every interval with settled frames: decoded to its own colour? (leave-one-out fit)."""
    names = list(directions)
    table = np.stack([directions[name] for name in names])
    starts = np.array([start for _, start, _ in intervals], dtype=np.float64)
    lagged_start = np.where(index >= 0, starts[np.clip(index, 0, len(intervals) - 1)], 0.0)
    settled = times - lagged_start  # time since the (lagged) interval began
    right: list[bool] = []
    for i, (colour, _, _) in enumerate(intervals):
        own = index == i
        frames = own & (settled >= SETTLE_MS) if np.any(own & (settled >= SETTLE_MS)) else own
        if not np.any(frames):
            continue
        gain, free = _fit(face, expected, basis, mask=~own)  # fitted without this interval
        if gain <= 0:
            right.append(False)
            continue
        # Without the drift, the face's chromaticity is the shown colour's, times the gain.
        shown = free[frames].mean(axis=0) / gain
        right.append(names[int(np.argmin(np.linalg.norm(table - shown, axis=1)))] == colour)
    return right


def _worst_window(
    challenge: Challenge, intervals: Sequence[tuple[str, int, int]], right: Sequence[bool]
) -> float:
    """Lowest fraction of intervals decoded right among the move windows (by interval middle)."""
    if not right or len(right) != len(intervals):
        return 0.0 if not right else float(np.mean(right))
    worst = 1.0
    for move in range(len(challenge.moves)):
        start, end = challenge.move_window(move)
        inside = [
            ok for ok, (_, a, b) in zip(right, intervals, strict=True) if start <= (a + b) / 2 < end
        ]
        if inside:
            worst = min(worst, sum(inside) / len(inside))
    return worst
