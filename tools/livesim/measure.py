"""Sanity measurements of a burst's colour against a schedule (for tests and benches; the
server's own check is :mod:`secureface.verify.light`).

For every frame: the mean linear RGB of the face (the middle of YuNet's box: from the eyes'
height to the mouth's, between the eyes' outer thirds) and of the frame's top corners (the
room; the bottom corners usually hold the person's shoulders, which the screen lights too).
Their log(R/G) and log(B/G) over time are correlated with what the schedule's colour at each
frame time would do to a lit surface, ``log((1 + k c_R) / (1 + k c_G))`` and likewise for B.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from livesim.bursts import Burst
from livesim.camera import from_jpeg
from livesim.head import detector
from livesim.light import colour_at, to_linear
from secureface.face import detect_faces
from secureface.sessions.challenge import Challenge

F64 = NDArray[np.float64]
#: Corner patch size, fraction of the frame's width and height.
CORNER = 0.15


@lru_cache(maxsize=16)
def regions(burst: Burst) -> tuple[F64, F64]:
    """``(n, 3)`` mean linear RGB of the face and of the top corners in every frame (the last
    face box is reused where YuNet finds no face)."""
    face_rgb, corner_rgb = [], []
    box: tuple[int, int, int, int] | None = None
    for frame in burst.frames:
        image = from_jpeg(frame)
        linear = to_linear(image)
        height, width = image.shape[:2]
        faces = detect_faces(detector(), image, input_size=320)
        if faces:
            marks = np.asarray(faces[0].landmarks)
            (ex1, ey1), (ex2, ey2) = marks[0], marks[1]
            span = abs(ex2 - ex1)
            top = int(min(ey1, ey2))
            bottom = int(max(marks[3, 1], marks[4, 1]))
            left, right = int(min(ex1, ex2) - 0.1 * span), int(max(ex1, ex2) + 0.1 * span)
            box = (max(left, 0), max(top, 0), min(right, width), min(bottom, height))
        if box is None:
            box = (width // 3, height // 3, 2 * width // 3, 2 * height // 3)
        x0, y0, x1, y1 = box
        face_rgb.append(linear[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0))
        cw, ch = int(CORNER * width), int(CORNER * height)
        corners = np.concatenate(
            [linear[:ch, :cw].reshape(-1, 3), linear[:ch, width - cw :].reshape(-1, 3)]
        )
        corner_rgb.append(corners.mean(axis=0))
    face, room = np.asarray(face_rgb, np.float64), np.asarray(corner_rgb, np.float64)
    face.flags.writeable = room.flags.writeable = False  # cached: shared between callers
    return face, room


@dataclass(frozen=True)
class Correlations:
    """Correlations over time of a region's log-chromaticity with the schedule's.

    Attributes:
        face_rg, face_bg: the face's log(R/G) and log(B/G).
        corners_rg, corners_bg: the top corners'.
    """

    face_rg: float
    face_bg: float
    corners_rg: float
    corners_bg: float


def _log_ratios(rgb: F64) -> tuple[F64, F64]:
    rgb = np.maximum(rgb, 1e-4)
    return np.log(rgb[:, 0] / rgb[:, 1]), np.log(rgb[:, 2] / rgb[:, 1])


def _corr(a: F64, b: F64) -> float:
    if np.std(a) < 1e-12 or np.std(b) < 1e-12:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def correlations(burst: Burst, challenge: Challenge, k: float = 0.2) -> Correlations:
    """How the face's and the room's colour follow ``challenge``'s schedule (module docstring)."""
    face, corners = regions(burst)
    colours = np.asarray([colour_at(challenge, float(t)) for t in burst.times_ms], np.float64)
    expected = 1.0 + k * colours
    want_rg, want_bg = _log_ratios(expected)
    face_rg, face_bg = _log_ratios(face)
    corner_rg, corner_bg = _log_ratios(corners)
    return Correlations(
        _corr(face_rg, want_rg),
        _corr(face_bg, want_bg),
        _corr(corner_rg, want_rg),
        _corr(corner_bg, want_bg),
    )


def _slope(observed: F64, expected: F64, times: F64) -> float:
    """Least-squares gain of ``observed`` on ``expected`` with a linear drift over time."""
    x = (times - times.mean()) / max(float(np.ptp(times)), 1.0)
    design = np.stack([np.ones_like(x), x, expected], axis=1)
    solution, *_ = np.linalg.lstsq(design, observed, rcond=None)
    return float(solution[-1])


@dataclass(frozen=True)
class Gains:
    """Least-squares gains of the log-chromaticity on the schedule's (1 = as much as a surface
    facing a white screen that gives it ``k`` of the room light; both ratios pooled).

    Attributes:
        face: the face's gain.
        corners: the top corners' gain.
    """

    face: float
    corners: float


def gains(burst: Burst, challenge: Challenge, k: float = 0.2) -> Gains:
    """How strongly the face's and the room's colour follow ``challenge``'s schedule."""
    face, corners = regions(burst)
    times = np.asarray(burst.times_ms, np.float64)
    colours = np.asarray([colour_at(challenge, float(t)) for t in burst.times_ms], np.float64)
    want = np.concatenate(_log_ratios(1.0 + k * colours))
    both = np.concatenate([times, times])
    return Gains(
        _slope(np.concatenate(_log_ratios(face)), want, both),
        _slope(np.concatenate(_log_ratios(corners)), want, both),
    )


def mean_face_rgb(burst: Burst) -> F64:
    """``(n, 3)`` mean linear RGB of the face in every frame."""
    return regions(burst)[0]


__all__ = ["Correlations", "Gains", "correlations", "gains", "mean_face_rgb", "regions"]
