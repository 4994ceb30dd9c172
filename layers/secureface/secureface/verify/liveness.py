"""The server's liveness decision over one burst of frames, from its own copy of the challenge.

The browser sends every frame it captured during the challenge (about 10 a second for 6 s) with
its capture time. The server re-measures everything; nothing the client says about what it
showed or saw is trusted. Two stages, cheapest first; the first rule that fails is the reason
(kept in the server log and the audit record; the client learns only a quality hint, see
:func:`secureface.verify.answer.client_hint`):

Stage 1, on every frame (detector only, :meth:`FaceEngine.scan`) — :func:`check_burst`:

1. ``timing``: times strictly increasing, at least :attr:`Thresholds.min_fps` frames a second
   over the capture, no gap over :attr:`Thresholds.max_gap_ms`, the capture covered from start
   to end (a subsampled, truncated or padded burst fails);
2. ``multiple_faces`` (more than :attr:`Thresholds.max_multi_face_frames` frames with a second
   face: a detector's one-frame false alarm is not a second person; such frames are left out),
   ``no_face`` (fewer than :attr:`Thresholds.min_face_fraction` of the frames with one face),
   ``too_far`` (median eye distance under :attr:`Thresholds.min_face_size`);
3. :mod:`secureface.verify.motion`: ``moves_not_followed``, ``discontinuity``;
4. :mod:`secureface.verify.light` (light mode): ``light_not_reflected`` — or ``too_dark`` when
   the face is too dark to measure — and ``uniform_tint``.

Stage 2, on a few frames (the baseline, each move's peak, and evenly spread frames) —
:func:`check_frames`:

5. ``identity_changed``: every sampled frame but :attr:`Thresholds.identity_outliers` shows the
   baseline's person (SFace cosine; a turned face's embedding can fall under the threshold);
6. ``flat``: :mod:`secureface.verify.depth`: the face mesh's points move between the baseline
   and each move's peak frame as no plane's can (parallax), in every move but
   :attr:`Thresholds.depth_outliers` (a small move departs less from a plane; a plane never
   reaches the threshold in any move);
7. ``spoof_suspected``: the weak anti-spoof model on the baseline frame (a tripwire).

The caller then checks the memory of earlier accepted bursts (``replayed``) and matches the
baseline frame against the enrolled template (``no_match``). Every default is justified by a
measurement in docs/LIVENESS.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from secureface.face import cosine_similarity
from secureface.sessions.challenge import MODE_LIGHT, Challenge
from secureface.settings import OPENCV_COSINE_THRESHOLD, Settings
from secureface.verify.analysis import MIN_FACE_SIZE, FrameScan
from secureface.verify.depth import check_depth
from secureface.verify.light import LightThresholds, check_light
from secureface.verify.motion import MotionThresholds, Pose, check_motion


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds; defaults measured in docs/LIVENESS.md, each overridable.

    Attributes:
        min_fps: least frames per second of capture.
        max_gap_ms: longest time between two frames, and from the capture's start and end to
            the first and last frame.
        min_face_fraction: least fraction of frames with exactly one face.
        min_face_size: least median eye distance, pixels.
        min_face_luma: median face luma (0..255) under which a light failure is told "too dark".
        max_multi_face_frames: most frames in which a second face may be seen.
        same_identity_min_cosine: least SFace cosine of every sampled frame to the baseline.
        identity_outliers: sampled frames (besides the baseline) that may fall under it.
        identity_samples: evenly spread frames embedded besides the baseline and the peaks.
        depth_min_residual: least planar residual of every move's face-mesh points, in eye
            distances (flat prints: 0.006-0.043; heads turned 20-35°: 0.052-0.19).
        depth_outliers: moves whose residual may fall under it (at least two must reach it).
        antispoof_min: least anti-spoof "real" score of the baseline frame.
        match_min_cosine: least cosine between the baseline frame and the enrolled template
            (OpenCV's SFace threshold; applied by the caller).
        motion: the motion check's thresholds.
        light: the light check's thresholds.
    """

    min_fps: float = 8.0
    max_gap_ms: int = 400
    min_face_fraction: float = 0.9
    min_face_size: float = MIN_FACE_SIZE
    min_face_luma: float = 40.0
    max_multi_face_frames: int = 2
    same_identity_min_cosine: float = 0.30
    identity_outliers: int = 1
    identity_samples: int = 4
    depth_min_residual: float = 0.047
    depth_outliers: int = 1
    antispoof_min: float = 0.2
    match_min_cosine: float = OPENCV_COSINE_THRESHOLD
    motion: MotionThresholds = field(default_factory=MotionThresholds)
    light: LightThresholds = field(default_factory=LightThresholds)

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        """The deployment's thresholds: the operator's match threshold, the rest as measured."""
        return cls(match_min_cosine=settings.match_threshold)


@dataclass(frozen=True)
class BurstCheck:
    """Stage 1's verdict.

    Attributes:
        passed: every stage-1 rule held.
        reason: ``ok`` or the first failed rule.
        detail: measurements for the server log only.
        baseline: frame index of the baseline (most frontal ``center``) frame.
        peaks: frame index of each move's peak.
        samples: frame indices to embed for the identity rule (baseline and peaks included).
    """

    passed: bool
    reason: str
    detail: str
    baseline: int = 0
    peaks: tuple[int, ...] = ()
    samples: tuple[int, ...] = ()


@dataclass(frozen=True)
class LivenessResult:
    """Stage 2's verdict (the caller matches the baseline frame when it passed)."""

    passed: bool
    reason: str
    detail: str = ""


def _fail(reason: str, detail: str) -> BurstCheck:
    return BurstCheck(False, reason, detail)


def check_timing(challenge: Challenge, times: Sequence[int], thresholds: Thresholds) -> str:
    """A description of what is wrong with the frame times, or ``""``."""
    t = np.asarray(times, dtype=np.int64)
    capture = challenge.capture_ms
    inside = int(np.count_nonzero((t >= 0) & (t < capture)))
    gaps = np.diff(np.concatenate([[0], np.clip(t, 0, capture), [capture]]))
    if len(t) < 2 or np.any(np.diff(t) <= 0):
        return "frame times not strictly increasing"
    if inside < thresholds.min_fps * capture / 1000.0:
        return f"{inside} frames inside a {capture} ms capture"
    if gaps.max() > thresholds.max_gap_ms:
        return f"a gap of {int(gaps.max())} ms"
    return ""


def check_burst(
    challenge: Challenge,
    times: Sequence[int],
    scans: Sequence[FrameScan],
    thresholds: Thresholds = Thresholds(),  # noqa: B008 (frozen, immutable)
) -> BurstCheck:
    """Stage 1 (module docstring) over every frame's scan.

    Args:
        challenge: the session's challenge, from the server's own record.
        times: each frame's capture time (ms from the challenge's time zero).
        scans: each frame's :class:`FrameScan`, same order.
        thresholds: decision thresholds.
    """
    if len(times) != len(scans):
        raise ValueError("one time per frame scan")
    if problem := check_timing(challenge, times, thresholds):
        return _fail("timing", problem)
    several = sum(s.face_count > 1 for s in scans)
    if several > thresholds.max_multi_face_frames:
        return _fail("multiple_faces", f"{several} frames have several faces")
    usable = [
        i
        for i, s in enumerate(scans)
        if s.face_count == 1 and s.face is not None and s.face_rgb is not None
    ]
    if len(usable) < thresholds.min_face_fraction * len(scans):
        return _fail("no_face", f"{len(usable)} of {len(scans)} frames with one face")
    sizes = [scans[i].eye_distance or 0.0 for i in usable]
    if float(np.median(sizes)) < thresholds.min_face_size:
        return _fail("too_far", f"median eye distance {float(np.median(sizes)):.1f} px")
    scale = float(np.median(sizes))
    poses = [_pose(times[i], scans[i], scale) for i in usable]
    motion = check_motion(challenge, poses, thresholds.motion)
    if not motion.passed:
        return _fail(motion.reason, motion.detail)
    detail = f"motion: {motion.detail}"
    if challenge.mode == MODE_LIGHT:
        light = check_light(
            challenge,
            [times[i] for i in usable],
            np.array([scans[i].face_rgb for i in usable], dtype=np.float64),
            np.array([scans[i].background_rgb for i in usable], dtype=np.float64),
            thresholds.light,
            pose=np.array([(p.yaw, p.rise) for p in poses], dtype=np.float64),
        )
        detail += f"; light: {light.detail}"
        if not light.passed:
            luma = float(np.median([scans[i].face_luma or 0.0 for i in usable]))
            dark = light.reason == "light_not_reflected" and luma < thresholds.min_face_luma
            return _fail("too_dark" if dark else light.reason, detail)
    baseline = usable[motion.baseline]
    peaks = tuple(usable[i] for i in motion.peaks)
    spread = np.linspace(0, len(usable) - 1, thresholds.identity_samples + 2)[1:-1]
    samples = sorted({baseline, *peaks, *(usable[round(x)] for x in spread)})
    return BurstCheck(True, "ok", detail, baseline, peaks, tuple(samples))


def _pose(t_ms: int, scan: FrameScan, eye_distance: float) -> Pose:
    assert scan.face is not None and scan.yaw is not None
    eyes_y = (scan.face.landmarks[0][1] + scan.face.landmarks[1][1]) / 2
    return Pose(t_ms, scan.yaw, -eyes_y / eye_distance, scan.face.box)


def check_frames(
    plan: BurstCheck,
    embeddings: Mapping[int, NDArray[np.float32]],
    residuals: Sequence[float],
    spoof: float,
    thresholds: Thresholds = Thresholds(),  # noqa: B008 (frozen, immutable)
) -> LivenessResult:
    """Stage 2 (module docstring) over the sampled frames of a burst that passed stage 1.

    Args:
        plan: stage 1's verdict (passed).
        embeddings: SFace embedding of every frame in ``plan.samples``.
        residuals: for each move's peak frame, the planar residual of its face-mesh points
            against the baseline's (:func:`secureface.verify.depth.planar_residual`).
        spoof: anti-spoof score of the baseline frame.
        thresholds: decision thresholds.
    """
    reference = embeddings[plan.baseline]
    below = [
        (index, cosine)
        for index in plan.samples
        if (cosine := cosine_similarity(embeddings[index], reference))
        < thresholds.same_identity_min_cosine
    ]
    if len(below) > thresholds.identity_outliers:
        detail = ", ".join(f"frame {i}: cosine {c:.3f}" for i, c in below) + " to the baseline"
        return LivenessResult(False, "identity_changed", detail)
    depth = check_depth(residuals, thresholds.depth_min_residual, thresholds.depth_outliers)
    if not depth.passed:
        return LivenessResult(False, "flat", depth.detail)
    if spoof < thresholds.antispoof_min:
        return LivenessResult(False, "spoof_suspected", f"anti-spoof {spoof:.3f}")
    return LivenessResult(True, "ok", f"{plan.detail}; {depth.detail}")
