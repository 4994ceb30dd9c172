"""A person performing the challenge's moves, with human timing.

For each move after ``center`` (window ``[i * move_ms, (i + 1) * move_ms)``): a reaction time,
a minimum-jerk movement out to the move's peak, a short hold, a minimum-jerk return, plus a slow
sway all along. Sources and assumptions:

- reaction to a visual cue 250-500 ms (simple visual reaction times are ~250 ms; reading a
  short instruction and starting a head movement adds 100-250 ms — an assumption);
- voluntary head movements follow the minimum-jerk profile (Flash & Hogan 1985, for arm
  movements; head rotations are well fitted by it too) over 300-500 ms for 20-35° (peak speeds
  ~100-200°/s, within the range reported for comfortable head turns);
- peak yaw 20-35°, peak pitch 15-25° (people asked to "turn" or "look up" rarely go further in
  front of a screen they must keep reading — an assumption);
- hold 100-300 ms; sway ±2° at 0.2-0.5 Hz (postural sway — an assumption).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from secureface.sessions.challenge import Challenge

#: Sign of (yaw, pitch) for each direction: yaw > 0 = own left, pitch > 0 = chin up.
AXES = {"left": (1.0, 0.0), "right": (-1.0, 0.0), "up": (0.0, 1.0), "down": (0.0, -1.0)}


def minimum_jerk(x: float) -> float:
    """Position along a minimum-jerk movement at normalised time ``x`` in [0, 1]."""
    x = min(max(x, 0.0), 1.0)
    return x**3 * (10 - 15 * x + 6 * x**2)


def trajectory(
    challenge: Challenge, rng: np.random.Generator
) -> Callable[[float], tuple[float, float]]:
    """``t_ms → (yaw_deg, pitch_deg)`` of a person performing ``challenge``."""
    plans = []
    for index, move in enumerate(challenge.moves):
        if move not in AXES:
            continue
        start, _ = challenge.move_window(index)
        react = start + rng.uniform(250, 500)
        out = rng.uniform(300, 500)
        hold = rng.uniform(100, 300)
        back = rng.uniform(300, 500)
        peak = rng.uniform(20, 35) if AXES[move][0] else rng.uniform(15, 25)
        plans.append((react, out, hold, back, peak, AXES[move]))
    sway = [(rng.uniform(0.2, 0.5), rng.uniform(0, 2 * math.pi), rng.uniform(1, 2)) for _ in "yp"]

    def at(t_ms: float) -> tuple[float, float]:
        yaw = sway[0][2] * math.sin(2 * math.pi * sway[0][0] * t_ms / 1000 + sway[0][1])
        pitch = sway[1][2] * math.sin(2 * math.pi * sway[1][0] * t_ms / 1000 + sway[1][1])
        for react, out, hold, back, peak, (ky, kp) in plans:
            if t_ms < react or t_ms > react + out + hold + back:
                continue
            if t_ms < react + out:
                level = minimum_jerk((t_ms - react) / out)
            elif t_ms < react + out + hold:
                level = 1.0
            else:
                level = 1.0 - minimum_jerk((t_ms - react - out - hold) / back)
            yaw += ky * peak * level
            pitch += kp * peak * level
        return yaw, pitch

    return at
