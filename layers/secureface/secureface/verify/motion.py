"""Were the moves made, in order, with a continuous human motion? (the motion half of liveness)

Per frame the server has the yaw cue of :mod:`secureface.face.pose` (> 0 toward the person's
own left), the **rise** (the eyes' height in the frame, in eye distances: a head lifting its
chin turns about an axis behind the face, so the eyes rise; YuNet's nose point follows a pitch
too little to measure it) and the face box. Relative to the **baseline** (the median cues of
the frames in the ``center`` window), each direction has a **progress**: ``left`` = Δyaw,
``right`` = -Δyaw, ``up`` = Δrise, ``down`` = -Δrise.

Rules, in order (the first that fails is the reason):

1. ``moves_not_followed``: in each move's window (plus :attr:`MotionThresholds.late_ms` for
   the person's reaction), the progress toward the asked direction reaches its minimum
   (:attr:`MotionThresholds.min_yaw` / :attr:`MotionThresholds.min_rise`), and the baseline is
   near-frontal. The other directions are not required to stay still: people drift off-axis and
   sway, and the eyes' rise also moves when they lean (measured in tools/livesim; a rule on them
   refused live people). What proves a live person is the light and the depth, not this rule.
2. ``discontinuity``: between consecutive frames, the cues move no faster than a head can
   (:attr:`MotionThresholds.max_cue_speed` cue units a second; ~600°/s) and the face box moves
   and scales no more than :attr:`MotionThresholds.max_box_jump` of its size a frame: a cut
   between two clips or a spliced burst jumps; and within each move the progress toward the
   asked direction turns back at most :attr:`MotionThresholds.max_reversals` times (out and
   back is one turn; sway and landmark noise under :attr:`MotionThresholds.reversal_step` are
   ignored): frames shuffled in time zigzag.

The peak frame of each move (its largest progress) is returned: the 3-D and identity checks look
at those frames.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from secureface.sessions.challenge import CENTER, DIRECTIONS, Challenge


@dataclass(frozen=True)
class MotionThresholds:
    """Thresholds of the motion check (measured in docs/LIVENESS.md).

    Attributes:
        min_yaw: least yaw-cue progress of a ``left``/``right`` move.
        min_rise: least rise progress (eye distances) of an ``up``/``down`` move.
        center_max_abs_yaw: largest |yaw| of the baseline.
        late_ms: how far past its window a move's peak may come (reaction time).
        max_cue_speed: largest change of yaw + rise per second between two frames.
        max_box_jump: largest move of the face box centre or change of its size between two
            consecutive frames, as a fraction of the box's size.
        max_reversals: most turns back of a move's progress within its window.
        reversal_step: least progress change that counts toward a turn back (cue units).
    """

    min_yaw: float = 0.08
    min_rise: float = 0.10
    center_max_abs_yaw: float = 0.35
    late_ms: int = 250
    max_cue_speed: float = 6.0
    max_box_jump: float = 0.5
    max_reversals: int = 5
    reversal_step: float = 0.05


@dataclass(frozen=True)
class Pose:
    """What the motion check reads of one frame with one face.

    Attributes:
        t_ms: capture time relative to the challenge's time zero.
        yaw: yaw cue.
        rise: the eyes' midpoint height, measured upward, in the burst's median eye distance
            (``-eye_y / eye_distance``).
        box: face box ``(x, y, width, height)``.
    """

    t_ms: int
    yaw: float
    rise: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class MotionResult:
    """The motion check's verdict.

    Attributes:
        passed: every rule held.
        reason: ``ok``, ``moves_not_followed`` or ``discontinuity``.
        baseline: index (into the poses) of the most frontal frame of the ``center`` window.
        peaks: for each move after ``center``, the index of its peak frame (empty on failure).
        detail: measurements for the server log.
    """

    passed: bool
    reason: str
    baseline: int
    peaks: tuple[int, ...]
    detail: str


#: Each of the challenge's directions (sessions.challenge.DIRECTIONS) as one pose cue — 0: yaw,
#: 1: rise — and its sign; TURNS are the ones measured by yaw.
CUES = {"left": (0, 1.0), "right": (0, -1.0), "up": (1, 1.0), "down": (1, -1.0)}
TURNS = tuple(d for d, (cue, _) in CUES.items() if cue == 0)


def progress(direction: str, d_yaw: float, d_rise: float) -> float:
    """How far a pose change goes toward ``direction`` (cue units)."""
    cue, sign = CUES[direction]
    return sign * (d_yaw, d_rise)[cue]


def check_motion(
    challenge: Challenge,
    poses: Sequence[Pose],
    thresholds: MotionThresholds = MotionThresholds(),  # noqa: B008 (frozen, immutable)
) -> MotionResult:
    """Check the moves of ``challenge`` against the poses of the burst (module docstring).

    Args:
        challenge: the session's challenge.
        poses: the frames with exactly one face, in capture order.
        thresholds: decision thresholds.
    """
    t = np.array([p.t_ms for p in poses], dtype=np.float64)
    yaw = np.array([p.yaw for p in poses])
    rise = np.array([p.rise for p in poses])
    start, end = challenge.move_window(0)
    centre = np.flatnonzero((t >= start) & (t < end))
    if centre.size == 0:
        return MotionResult(False, "moves_not_followed", 0, (), "no frame in the center window")
    base_yaw, base_rise = float(np.median(yaw[centre])), float(np.median(rise[centre]))
    baseline = int(centre[np.argmin(np.abs(yaw[centre] - base_yaw))])
    if abs(base_yaw) > thresholds.center_max_abs_yaw:
        return MotionResult(
            False, "moves_not_followed", baseline, (), f"center yaw {base_yaw:+.3f}"
        )
    peaks, details = [], []
    for index, move in enumerate(challenge.moves):
        if move == CENTER:
            continue
        start, end = challenge.move_window(index)
        inside = np.flatnonzero((t >= start) & (t < end + thresholds.late_ms))
        if inside.size == 0:
            return MotionResult(False, "moves_not_followed", baseline, (), f"{move}: no frames")
        reach = {
            d: np.array([progress(d, yaw[i] - base_yaw, rise[i] - base_rise) for i in inside])
            for d in DIRECTIONS
        }
        peak = float(reach[move].max())
        other = max(float(reach[d].max()) for d in reach if d != move)
        needed = thresholds.min_yaw if move in TURNS else thresholds.min_rise
        details.append(f"{move} {peak:+.3f} (other {other:+.3f})")
        if peak < needed:
            return MotionResult(
                False, "moves_not_followed", baseline, (), f"{'; '.join(details)} < {needed}"
            )
        peaks.append(int(inside[int(np.argmax(reach[move]))]))
        turns = _reversals(reach[move], thresholds.reversal_step)
        if turns > thresholds.max_reversals:
            return MotionResult(False, "discontinuity", baseline, (), f"{move}: {turns} reversals")
    jump = _discontinuity(poses, thresholds)
    if jump:
        return MotionResult(False, "discontinuity", baseline, (), jump)
    return MotionResult(True, "ok", baseline, tuple(peaks), "; ".join(details))


def _reversals(series: NDArray[np.float64], step: float) -> int:
    """How often ``series`` changes direction by more than ``step`` (a hysteresis count)."""
    turns, direction, extreme = 0, 0, float(series[0]) if len(series) else 0.0
    for value in (float(v) for v in series[1:]):
        rising = value > extreme + step
        falling = value < extreme - step
        if direction == 0 and (rising or falling):
            direction = 1 if rising else -1
        elif (direction > 0 and falling) or (direction < 0 and rising):
            turns += 1
            direction = -direction
        if direction == 0 or (direction > 0) == (value > extreme):
            extreme = value
    return turns


def _discontinuity(poses: Sequence[Pose], thresholds: MotionThresholds) -> str:
    """A description of the first jump between consecutive frames, or ``""``."""
    for i, (a, b) in enumerate(itertools.pairwise(poses)):
        dt = max(b.t_ms - a.t_ms, 1) / 1000.0
        speed = (abs(b.yaw - a.yaw) + abs(b.rise - a.rise)) / dt
        if speed > thresholds.max_cue_speed:
            return f"frames {i}-{i + 1}: cue speed {speed:.2f}/s"
        size = max(a.box[2], a.box[3], 1.0)
        shift = np.hypot(
            (b.box[0] + b.box[2] / 2) - (a.box[0] + a.box[2] / 2),
            (b.box[1] + b.box[3] / 2) - (a.box[1] + a.box[3] / 2),
        )
        scale = abs(max(b.box[2], b.box[3]) - size) / size
        if shift / size > thresholds.max_box_jump or scale > thresholds.max_box_jump:
            return f"frames {i}-{i + 1}: box moved {shift / size:.2f}, scaled {scale:.2f}"
    return ""
