"""Verification and enrollment use cases: the server decides, from evidence it checks itself.

``verify_at``: consume the session (single use) → open the request under ``K_request`` → parse
and bound it → lockout → decode every frame → liveness (challenge from the signed transcript,
distinct frames, one identity, anti-spoof) → match the most frontal frame against the enrolled
template → signed assertion, sealed under ``K_response`` → audit. An unknown subject answers
exactly like ``no_match``. No score ever leaves the server.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from secureface.crypto.delegation import DelegatedSigner
from secureface.crypto.envelope import EnvelopeCipher
from secureface.encoding import b64url_decode, canonical_json
from secureface.errors import BadRequestError, IntegrityError, PayloadTooLargeError
from secureface.face import cosine_similarity, decode_image
from secureface.sessions.records import SessionStore
from secureface.sessions.sealed import REQUEST_LABEL, RESPONSE_LABEL, open_message, seal_message
from secureface.sessions.service import consume_session_at
from secureface.verify.analysis import FaceEngine, FrameAnalysis
from secureface.verify.assertion import ASSERTION_TTL_S, Assertion, sign_assertion_at
from secureface.verify.liveness import Thresholds, check_liveness
from secureface.verify.lockout import LockoutPolicy, attempt_keys, locked_at, register_failure_at
from secureface.verify.records import (
    AttemptStore,
    AuditLog,
    TemplateStore,
    open_template,
    seal_template,
)
from secureface.verify.request import (
    MAX_FRAME_BYTES,
    VerifyPayload,
    check_subject_id,
    parse_payload,
)

log = logging.getLogger(__name__)
MAX_ENROLL_IMAGES = 5


@dataclass
class VerifyService:
    """Everything verification needs; built once per instance by the runtime."""

    sessions: SessionStore
    envelope: EnvelopeCipher
    signer: DelegatedSigner
    templates: TemplateStore
    attempts: AttemptStore
    audit: AuditLog
    engine: FaceEngine
    models: dict[str, str]
    thresholds: Thresholds = field(default_factory=Thresholds)
    policy: LockoutPolicy = field(default_factory=LockoutPolicy)

    frame_workers: int = 2

    def __post_init__(self) -> None:
        self._frames_pool = ThreadPoolExecutor(self.frame_workers, thread_name_prefix="frame")

    @property
    def embedding_model(self) -> str:
        return self.models["embedding"]

    def _analyze(self, frame: bytes) -> FrameAnalysis:
        return self.engine.analyze(decode_image(frame))

    def verify_at(self, body: dict[str, Any], client: str, *, now: int) -> dict[str, str]:
        """Handle one ``POST /verify``; returns the sealed answer.

        Raises:
            SessionError: unknown, expired or used session (401).
            IntegrityError: the payload does not open under the session's request key (400).
            BadRequestError, PayloadTooLargeError: malformed or oversized payload or frames.
        """
        started = time.monotonic()
        record, keys = consume_session_at(
            str(body.get("session_id", "")), self.sessions, self.envelope, now=now
        )
        plaintext = open_message(keys.request, REQUEST_LABEL, record.session_id, body)
        payload = parse_payload(plaintext, expected_frames=len(record.challenge))
        decision, reason = self._decide(payload, record.challenge, client, now)
        assertion = Assertion(
            payload.subject_id, decision, reason, record.session_id, now, now + ASSERTION_TTL_S
        )
        bundle = sign_assertion_at(assertion, self.signer, now=now)
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        self.audit.record(
            {"kind": "verify", "subject_id": payload.subject_id, "session_id": record.session_id,
             "decision": decision, "reason": reason, "client": client, "models": self.models,
             "latency_ms": latency_ms},
            now,
        )  # fmt: skip
        log.info(
            "verify decided",
            extra={
                "session_id": record.session_id,
                "outcome": decision,
                "reason": reason,
                "duration_ms": latency_ms,
            },
        )
        return seal_message(
            keys.response, RESPONSE_LABEL, record.session_id, canonical_json(bundle)
        )

    def _decide(
        self, payload: VerifyPayload, challenge: tuple[str, ...], client: str, now: int
    ) -> tuple[str, str]:
        keys = attempt_keys(payload.subject_id, client)
        if locked_at(self.attempts, keys, now):
            return "locked", "locked"
        # onnxruntime releases the GIL, so frames can be analysed side by side (frame_workers).
        analyses = list(self._frames_pool.map(self._analyze, payload.frames))
        live = check_liveness(challenge, analyses, self.thresholds)
        reason = live.reason
        if not live.passed:
            log.info("liveness refused", extra={"reason": live.reason, "detail": live.detail})
        if live.passed:
            probe = analyses[live.match_frame if live.match_frame is not None else 0].embedding
            reason = "ok" if self._matches(payload.subject_id, probe) else "no_match"
        if reason == "ok":
            return "verified", "ok"
        register_failure_at(self.attempts, keys, now, self.policy)
        return "not_verified", reason

    def _matches(self, subject_id: str, probe: Any) -> bool:
        record = self.templates.get(subject_id)
        if record is None or probe is None:
            # Same work as a real comparison, so an unknown subject looks like a non-match.
            cosine_similarity(np.ones(128, dtype=np.float32), np.ones(128, dtype=np.float32))
            return False
        if record.model != self.embedding_model:
            log.warning(
                "template made by another model", extra={"reason": "template_model_mismatch"}
            )
            return False
        try:
            template = open_template(self.envelope, record)
        except IntegrityError as exc:
            log.error("template does not open", extra={"reason": exc.reason})
            return False
        return bool(cosine_similarity(probe, template) >= self.thresholds.match_min_cosine)

    def enroll_at(self, body: dict[str, Any], *, now: int) -> dict[str, Any]:
        """Enroll (or re-enroll) a subject from 1–5 images after quality checks.

        Raises:
            BadRequestError: bad subject id, image count or encoding; EnrollmentQualityError
                (422) when an image fails a quality check. Nothing is stored then.
        """
        subject_id = check_subject_id(body.get("subject_id"))
        images = body.get("images")
        if not isinstance(images, list) or not 1 <= len(images) <= MAX_ENROLL_IMAGES:
            raise BadRequestError(
                f"images must be a list of 1-{MAX_ENROLL_IMAGES} base64url images"
            )
        decoded = []
        for index, text in enumerate(images):
            data = b64url_decode(
                text, field=f"images[{index}]", max_len=MAX_FRAME_BYTES * 4 // 3 + 4
            )
            if len(data) > MAX_FRAME_BYTES:
                raise PayloadTooLargeError(f"images[{index}] is over {MAX_FRAME_BYTES} bytes")
            decoded.append(decode_image(data))
        embedding = self.engine.enrollment_embedding(decoded)
        version = self.templates.next_version(subject_id)
        self.templates.put(
            seal_template(
                self.envelope, subject_id, version, self.embedding_model, embedding, now=now
            )
        )
        self.audit.record(
            {"kind": "enroll", "subject_id": subject_id, "version": version, "models": self.models},
            now,
        )
        return {"subject_id": subject_id, "version": version, "model": self.embedding_model}

    def erase_at(self, subject_id: str, *, now: int) -> dict[str, Any]:
        """Delete a subject's template (erasure). Raises BadRequestError on a bad id."""
        deleted = self.templates.delete(check_subject_id(subject_id))
        self.audit.record({"kind": "erase", "subject_id": subject_id, "deleted": deleted}, now)
        return {"subject_id": subject_id, "deleted": deleted}
