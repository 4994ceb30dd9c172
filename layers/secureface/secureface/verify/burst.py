"""Assess one burst with the models: decode → scan every frame → stage 1 → sample → stage 2.

The one way from frame bytes to a liveness verdict, shared by the verify service, the benches
and the tests (:mod:`secureface.verify.liveness` holds the rules; this module runs the models
they need, side by side where a ``map`` over a thread pool is given: onnxruntime releases the
GIL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from secureface.face import decode_image
from secureface.face.inference import RGBImage
from secureface.sessions.challenge import Challenge
from secureface.verify.analysis import FaceEngine, FrameScan
from secureface.verify.depth import planar_residual
from secureface.verify.liveness import Thresholds, check_burst, check_frames
from secureface.verify.request import MAX_FRAME_BYTES, MAX_FRAME_SIDE


@dataclass(frozen=True)
class BurstVerdict:
    """What the liveness check concluded about a burst.

    Attributes:
        reason: ``ok`` or the first failed rule (private: log and audit only).
        detail: measurements for tests and benches (never logged: they would help an attacker).
        probe: the baseline frame's embedding, to match against the template (when ``ok``).
        prints: fingerprints of the sampled frames (for the memory of accepted bursts).
    """

    reason: str
    detail: str
    probe: NDArray[np.float32] | None = None
    prints: tuple[bytes, ...] = ()

    @property
    def passed(self) -> bool:
        return self.reason == "ok"


def decode_frame(frame: bytes) -> RGBImage:
    """A verify frame: JPEG only, at most :data:`MAX_FRAME_SIDE` px a side, checked first.

    Raises:
        BadRequestError, PayloadTooLargeError: not such a frame.
    """
    return decode_image(
        frame, max_bytes=MAX_FRAME_BYTES, max_side=MAX_FRAME_SIDE, formats=("JPEG",)
    )


def assess_burst(
    engine: FaceEngine,
    challenge: Challenge,
    frames: Sequence[bytes],
    times_ms: Sequence[int],
    thresholds: Thresholds = Thresholds(),  # noqa: B008 (frozen, immutable)
    mapper: Any = map,
) -> BurstVerdict:
    """Run the liveness check on a burst (docs/LIVENESS.md).

    Args:
        engine: the models.
        challenge: the session's challenge, from the server's own record.
        frames: JPEG bytes in capture order.
        times_ms: capture times from the challenge's time zero.
        thresholds: decision thresholds.
        mapper: ``map`` or a thread pool's ``map``.

    Raises:
        BadRequestError, PayloadTooLargeError: a frame is not a valid verify frame.
    """

    def scan(frame: bytes) -> tuple[RGBImage, FrameScan]:
        image = decode_frame(frame)
        return image, engine.scan(image)

    scanned = list(mapper(scan, frames))
    images, scans = [i for i, _ in scanned], [s for _, s in scanned]
    plan = check_burst(challenge, times_ms, scans, thresholds)
    if not plan.passed:
        return BurstVerdict(plan.reason, plan.detail)

    def face(i: int) -> Any:
        return scans[i].face

    described = dict(
        zip(
            plan.samples,
            mapper(lambda i: engine.embed(images[i], face(i)), plan.samples),
            strict=True,
        )
    )
    meshes = dict(
        zip(
            (plan.baseline, *plan.peaks),
            mapper(lambda i: engine.mesh_points(images[i], face(i)), (plan.baseline, *plan.peaks)),
            strict=True,
        )
    )
    base, scale = meshes[plan.baseline], scans[plan.baseline].eye_distance or 1.0

    def residual(i: int) -> float:
        peak = meshes[i]
        if base is None or peak is None:
            return 0.0  # no mesh, no evidence of depth
        return planar_residual(base, peak, scale)

    live = check_frames(
        plan,
        {i: e for i, (e, _) in described.items()},
        [residual(i) for i in plan.peaks],
        engine.spoof_score(images[plan.baseline], face(plan.baseline)),
        thresholds,
    )
    if not live.passed:
        return BurstVerdict(live.reason, f"{plan.detail}; {live.detail}")
    return BurstVerdict(
        "ok",
        live.detail,
        described[plan.baseline][0],
        tuple(p for _, p in described.values()),
    )
