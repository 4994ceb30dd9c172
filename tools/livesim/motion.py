"""A person performing the challenge's moves, with human timing.

For each move after ``center`` (window ``[i * move_ms, (i + 1) * move_ms)``) the person reacts,
turns out to a peak along a minimum-jerk path, holds, and comes back to centre before the window
ends; a slow sway and a small head translation run all along. Parameters, their sources, and
what is an assumption:

- **Reaction time 250-500 ms** after the window starts. Simple visual reaction times of adults
  are about 200-250 ms (Welford, "Reaction Times", 1980; Jain et al., Int. J. Appl. Basic Med.
  Res. 2015); a four-way choice costs more (Hick 1952: time grows with log2 of the number of
  choices) and head movements to a visual target start some 200-400 ms after it appears
  (Zangemeister & Stark, Exp. Neurol. 1982). The 500 ms upper end, for a person who reads the
  prompt, is an assumption.
- **Minimum-jerk movement** out and back (Flash & Hogan, J. Neurosci. 5:1688, 1985: smooth
  voluntary point-to-point movements minimise jerk; x(s) = 10 s^3 - 15 s^4 + 6 s^5). It was
  shown for arm movements; applying it to head rotations is an assumption that matches their
  bell-shaped velocity profiles (Zangemeister, Lehman & Stark, Biol. Cybern. 1981).
- **Duration 300-500 ms** each way and **peak 20-35 degrees yaw / 15-25 degrees pitch**: peak
  speeds 1.875 x amplitude / duration = 75-220 deg/s, inside the range of voluntary head turns
  of that size (Zangemeister et al. 1981 report a "main sequence" of ~100-300 deg/s for 20-40
  degree turns). The amplitudes are what a person does when asked to turn while still watching a
  screen: an assumption (a comfortable range of motion is ~70 degrees yaw and ~50 degrees pitch
  each way, so these are well inside it).
- **Hold 100-300 ms** at the peak (assumption). If reaction + out + hold + back would overrun
  the window (less a 50 ms margin), the three movement phases are shortened together to fit:
  people who are told the time per move finish in it (assumption).
- **Off-axis component**: a turn drifts 0-10 % of its amplitude on the other axis (assumption:
  real head turns are not pure rotations about one axis).
- **Sway**: two sinusoids per axis at 0.1-0.5 Hz, together at most ±2 degrees (postural sway of
  a seated person; the amplitude is an assumption).
- **Translation** (:func:`head_translation`): ±0.05-0.15 eye distances (≈ 3-10 mm) sideways
  and up-down and ±1.5 % in scale (leaning in and out) at 0.05-0.3 Hz: seated postural sway,
  an assumption.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from secureface.sessions.challenge import Challenge

#: Sign of (yaw, pitch) for each direction: yaw > 0 = own left, pitch > 0 = chin up.
AXES: dict[str, tuple[float, float]] = {
    "left": (1.0, 0.0),
    "right": (-1.0, 0.0),
    "up": (0.0, 1.0),
    "down": (0.0, -1.0),
}
REACTION_MS = (250.0, 500.0)
MOVE_OUT_MS = (300.0, 500.0)
HOLD_MS = (100.0, 300.0)
YAW_PEAK_DEG = (20.0, 35.0)
PITCH_PEAK_DEG = (15.0, 25.0)
OFF_AXIS = 0.10
SWAY_DEG = 2.0
WINDOW_MARGIN_MS = 50.0


def minimum_jerk(s: float) -> float:
    """Position along a minimum-jerk movement at normalised time ``s`` (clamped to [0, 1])."""
    s = min(max(s, 0.0), 1.0)
    return s**3 * (10 - 15 * s + 6 * s**2)


@dataclass(frozen=True)
class MovePlan:
    """One move as a person makes it (times in ms from the capture's start).

    Attributes:
        direction: ``left``, ``right``, ``up`` or ``down``.
        start: when the movement starts (window start + reaction time).
        out: duration of the movement out.
        hold: time held at the peak.
        back: duration of the movement back.
        peak: amplitude, degrees.
        off_axis: the other axis's drift as a signed fraction of ``peak``.
    """

    direction: str
    start: float
    out: float
    hold: float
    back: float
    peak: float
    off_axis: float

    @property
    def end(self) -> float:
        return self.start + self.out + self.hold + self.back

    def level(self, t_ms: float) -> float:
        """How far out the head is (0 = centre, 1 = peak) at ``t_ms``."""
        if t_ms <= self.start or t_ms >= self.end:
            return 0.0
        t = t_ms - self.start
        if t < self.out:
            return minimum_jerk(t / self.out)
        if t < self.out + self.hold:
            return 1.0
        return 1.0 - minimum_jerk((t - self.out - self.hold) / self.back)


def plan_moves(challenge: Challenge, rng: np.random.Generator) -> list[MovePlan]:
    """How a person makes each of ``challenge``'s moves (``center`` makes none)."""
    plans = []
    for index, move in enumerate(challenge.moves):
        if move not in AXES:
            continue
        window_start, window_end = challenge.move_window(index)
        start = window_start + float(rng.uniform(*REACTION_MS))
        out, hold, back = (
            float(rng.uniform(*MOVE_OUT_MS)),
            float(rng.uniform(*HOLD_MS)),
            float(rng.uniform(*MOVE_OUT_MS)),
        )
        room = window_end - WINDOW_MARGIN_MS - start
        if out + hold + back > room:
            squeeze = max(room, 1.0) / (out + hold + back)
            out, hold, back = out * squeeze, hold * squeeze, back * squeeze
        peak_range = YAW_PEAK_DEG if AXES[move][0] else PITCH_PEAK_DEG
        plans.append(
            MovePlan(
                direction=move,
                start=start,
                out=out,
                hold=hold,
                back=back,
                peak=float(rng.uniform(*peak_range)),
                off_axis=float(rng.uniform(-OFF_AXIS, OFF_AXIS)),
            )
        )
    return plans


def sway(
    rng: np.random.Generator, amplitude: float, low: float, high: float
) -> Callable[[float], float]:
    """``t_ms → value``: two slow sinusoids (``low``-``high`` Hz, random phases), together at most
    ``amplitude``."""
    parts = [
        (
            float(rng.uniform(low, high)),
            float(rng.uniform(0, 2 * math.pi)),
            float(rng.uniform(0.3, 1)),
        )
        for _ in range(2)
    ]
    total = sum(a for _, _, a in parts)
    scale = amplitude / total

    def at(t_ms: float) -> float:
        return scale * sum(a * math.sin(2 * math.pi * f * t_ms / 1000 + p) for f, p, a in parts)

    return at


def pose_at(plans: list[MovePlan], t_ms: float) -> tuple[float, float]:
    """(yaw, pitch) of the planned moves alone (no sway) at ``t_ms``."""
    yaw = pitch = 0.0
    for plan in plans:
        level = plan.level(t_ms)
        if level == 0.0:
            continue
        ky, kp = AXES[plan.direction]
        amount = plan.peak * level
        yaw += ky * amount + kp * plan.off_axis * amount
        pitch += kp * amount + ky * plan.off_axis * amount
    return yaw, pitch


def trajectory(
    challenge: Challenge, rng: np.random.Generator
) -> Callable[[float], tuple[float, float]]:
    """``t_ms → (yaw_deg, pitch_deg)`` of a person performing ``challenge`` (module docstring)."""
    plans = plan_moves(challenge, rng)
    sway_yaw = sway(rng, SWAY_DEG, 0.1, 0.5)
    sway_pitch = sway(rng, SWAY_DEG, 0.1, 0.5)

    def at(t_ms: float) -> tuple[float, float]:
        yaw, pitch = pose_at(plans, t_ms)
        return yaw + sway_yaw(t_ms), pitch + sway_pitch(t_ms)

    return at


def head_translation(rng: np.random.Generator) -> Callable[[float], tuple[float, float, float]]:
    """``t_ms → (dx, dy, scale)``: slow sway of the head's position (eye distances) and of its
    distance to the camera (scale), a seated person's (module docstring)."""
    dx = sway(rng, float(rng.uniform(0.05, 0.15)), 0.05, 0.3)
    dy = sway(rng, float(rng.uniform(0.05, 0.15)), 0.05, 0.3)
    ds = sway(rng, float(rng.uniform(0.005, 0.015)), 0.05, 0.3)

    def at(t_ms: float) -> tuple[float, float, float]:
        return dx(t_ms), dy(t_ms), 1.0 + ds(t_ms)

    return at


def angular_speed(
    path: Callable[[float], tuple[float, float]], t_ms: float, dt_ms: float = 10.0
) -> tuple[float, float]:
    """(yaw, pitch) speed of ``path`` at ``t_ms``, degrees per second (central difference)."""
    y1, p1 = path(t_ms - dt_ms / 2)
    y2, p2 = path(t_ms + dt_ms / 2)
    return (y2 - y1) * 1000 / dt_ms, (p2 - p1) * 1000 / dt_ms
