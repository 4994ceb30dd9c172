"""The server's liveness decision over the frames of one challenge.

The challenge is a sequence of steps chosen by the server (secureface.sessions.challenge):
``center`` (look at the camera), ``turn_left`` and ``turn_right``; the browser sends one frame
per step, in order. Directions are the person's own: ``turn_left`` = the person turns their
head toward THEIR left. In the unmirrored camera image their nose then moves to the image's
right, so the yaw cue grows (secureface.face.pose). Frames must be sent as the camera records
them, not mirrored like a selfie preview; a mirrored sequence fails (both turns reversed).

Rules, checked in this order; the first that fails gives the reason:

1. every frame holds exactly one face (``no_face`` / ``multiple_faces``), at least
   ``min_face_size`` pixels between the eyes (``no_face``: none usable);
2. every two frames are distinct captures: fingerprint distance at least
   ``distinct_min_difference`` (``repeated_frame``);
3. every frame shows the person of the reference frame (the most frontal ``center`` frame):
   SFace cosine at least ``same_identity_min_cosine`` (``identity_changed``);
4. the pose sequence was performed: each ``center`` frame has ``|yaw| <= center_max_abs_yaw``;
   each ``turn_left`` frame's yaw exceeds the reference's by at least ``turn_min_yaw_change``,
   each ``turn_right`` frame's is below it by as much, so the two turns move the cue in opposite
   directions (``liveness_failed``). A flat photo tilted in front of the camera has no parallax:
   it moves the cue little, and the same way for both tilts;
5. the anti-spoof score of every frame is at least ``antispoof_min`` (``spoof_suspected``);
   a weak, auxiliary check (real faces score 0.40-0.81).

Every default is justified by a measurement in docs/LIVENESS.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from secureface.errors import BadRequestError
from secureface.face import cosine_similarity
from secureface.verify.analysis import (
    FRONTAL_MAX_ABS_YAW,
    MIN_FACE_SIZE,
    FrameAnalysis,
    fingerprint_distance,
)

#: The steps a challenge may contain.
STEPS = ("center", "turn_left", "turn_right")

#: The reasons :func:`check_liveness` answers with (``LivenessResult.reason`` is a plain ``str``
#: so that callers can extend the vocabulary, e.g. with ``no_match``).
Reason = Literal[
    "ok",
    "no_face",
    "multiple_faces",
    "liveness_failed",
    "spoof_suspected",
    "identity_changed",
    "repeated_frame",
]


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds; defaults measured in docs/LIVENESS.md, each overridable.

    Attributes:
        center_max_abs_yaw: largest ``|yaw|`` of a ``center`` frame.
        turn_min_yaw_change: least yaw change of a turn frame relative to the reference
            ``center`` frame, in the step's direction.
        same_identity_min_cosine: least SFace cosine of every frame to the reference frame.
        antispoof_min: least anti-spoof "real" score of every frame.
        distinct_min_difference: least fingerprint distance between any two frames.
        match_min_cosine: least cosine between the reference frame and the enrolled template
            for a match (OpenCV's SFace threshold; applied by the caller).
        min_face_size: least eye distance in pixels.
    """

    center_max_abs_yaw: float = FRONTAL_MAX_ABS_YAW
    turn_min_yaw_change: float = 0.18
    same_identity_min_cosine: float = 0.363
    antispoof_min: float = 0.2
    distinct_min_difference: float = 0.2
    match_min_cosine: float = 0.363
    min_face_size: float = MIN_FACE_SIZE


@dataclass(frozen=True)
class LivenessResult:
    """The decision.

    Attributes:
        passed: every rule held.
        reason: ``ok`` or the first rule that failed (see the module docstring).
        match_frame: when passed, the index of the frame to match against the template (the
            most frontal ``center`` frame); ``None`` otherwise.
        detail: which frame failed and by how much, for the server log only (never for the
            client: it holds scores).
    """

    passed: bool
    reason: str
    match_frame: int | None
    detail: str = ""


@dataclass(frozen=True)
class _Measured:
    """One frame with one face, every measurement present."""

    yaw: float
    embedding: NDArray[np.float32]
    antispoof: float
    fingerprint: bytes


def check_liveness(
    challenge: Sequence[str],
    frames: Sequence[FrameAnalysis],
    thresholds: Thresholds = Thresholds(),  # noqa: B008 (frozen, immutable)
) -> LivenessResult:
    """Decide whether ``frames`` are a live person performing ``challenge``.

    Args:
        challenge: the steps the server asked for, in order.
        frames: the analysis of the frame sent for each step, in the same order.
        thresholds: decision thresholds.

    Returns:
        The decision; ``match_frame`` is set only when it passed.

    Raises:
        BadRequestError: the number of frames differs from the number of steps, or the
            challenge has an unknown step, or lacks a ``center``, a ``turn_left`` or a
            ``turn_right`` step.
    """
    _check_arguments(challenge, frames)
    measured = _measure(frames, thresholds)
    if isinstance(measured, LivenessResult):
        return measured
    repeated = _repeated(measured, thresholds)
    if repeated is not None:
        return repeated
    reference = min(
        (i for i, step in enumerate(challenge) if step == "center"),
        key=lambda i: abs(measured[i].yaw),
    )
    for rule in (_identity, _pose, _spoof):
        failure = rule(challenge, measured, reference, thresholds)
        if failure is not None:
            return failure
    return LivenessResult(passed=True, reason="ok", match_frame=reference)


def _fail(reason: Reason, detail: str) -> LivenessResult:
    return LivenessResult(passed=False, reason=reason, match_frame=None, detail=detail)


def _check_arguments(challenge: Sequence[str], frames: Sequence[FrameAnalysis]) -> None:
    """Raises: BadRequestError: see :func:`check_liveness`."""
    unknown = [step for step in challenge if step not in STEPS]
    if unknown:
        raise BadRequestError(reason=f"unknown challenge steps {unknown}")
    if set(challenge) != set(STEPS):
        raise BadRequestError(reason=f"challenge {tuple(challenge)} lacks a step of {STEPS}")
    if len(frames) != len(challenge):
        raise BadRequestError(
            "One frame per challenge step is required",
            reason=f"{len(frames)} frames for {len(challenge)} steps",
        )


def _measure(
    frames: Sequence[FrameAnalysis], thresholds: Thresholds
) -> list[_Measured] | LivenessResult:
    """The frames' measurements, or the face-count / face-size failure of the first bad frame."""
    measured = []
    for i, frame in enumerate(frames):
        if frame.face_count > 1:
            return _fail("multiple_faces", f"frame {i}: {frame.face_count} faces")
        yaw, embedding, score, size = frame.yaw, frame.embedding, frame.antispoof, frame.face_size
        if frame.face_count == 0 or yaw is None or embedding is None or score is None:
            return _fail("no_face", f"frame {i}: no face")
        if size is None or size < thresholds.min_face_size:
            return _fail("no_face", f"frame {i}: face size {size} < {thresholds.min_face_size}")
        measured.append(_Measured(yaw, embedding, score, frame.fingerprint))
    return measured


def _repeated(measured: Sequence[_Measured], thresholds: Thresholds) -> LivenessResult | None:
    for (i, first), (j, second) in combinations(enumerate(measured), 2):
        distance = fingerprint_distance(first.fingerprint, second.fingerprint)
        if distance < thresholds.distinct_min_difference:
            limit = thresholds.distinct_min_difference
            return _fail("repeated_frame", f"frames {i}, {j}: distance {distance:.3f} < {limit}")
    return None


def _identity(
    challenge: Sequence[str], measured: Sequence[_Measured], ref: int, thresholds: Thresholds
) -> LivenessResult | None:
    for i, frame in enumerate(measured):
        cosine = cosine_similarity(frame.embedding, measured[ref].embedding)
        limit = thresholds.same_identity_min_cosine
        if i != ref and cosine < limit:
            detail = f"frame {i} ({challenge[i]}): cosine {cosine:.3f} to frame {ref} < {limit}"
            return _fail("identity_changed", detail)
    return None


def _pose(
    challenge: Sequence[str], measured: Sequence[_Measured], ref: int, thresholds: Thresholds
) -> LivenessResult | None:
    centre_yaw = measured[ref].yaw
    for i, (step, frame) in enumerate(zip(challenge, measured, strict=True)):
        if step == "center":
            if abs(frame.yaw) > thresholds.center_max_abs_yaw:
                limit = thresholds.center_max_abs_yaw
                return _fail("liveness_failed", f"frame {i}: yaw {frame.yaw:+.3f}, limit {limit}")
            continue
        change = (frame.yaw - centre_yaw) * (1.0 if step == "turn_left" else -1.0)
        if change < thresholds.turn_min_yaw_change:
            limit = thresholds.turn_min_yaw_change
            return _fail("liveness_failed", f"frame {i} ({step}): {change:+.3f} < {limit}")
    return None


def _spoof(
    challenge: Sequence[str], measured: Sequence[_Measured], ref: int, thresholds: Thresholds
) -> LivenessResult | None:
    del ref  # every frame is scored alike
    for i, frame in enumerate(measured):
        if frame.antispoof < thresholds.antispoof_min:
            limit = thresholds.antispoof_min
            return _fail("spoof_suspected", f"frame {i}: {frame.antispoof:.3f} < {limit}")
    return None
