"""Verification and enrollment use cases: the server decides, from evidence it checks itself.

``verify_at``: consume the session (single use) → open the request under ``K_request`` → parse
and bound the burst → deadline → lockout → decode and scan every frame → stage-1 liveness
(timing, faces, motion, light; :mod:`secureface.verify.liveness`) → embed and mesh a few frames
→ stage-2 liveness (identity, depth, anti-spoof) → memory of accepted bursts → match the
baseline frame against the enrolled template of the transaction's subject → audit (with the
person's consent) → the relying party's result token, signed and stored for redemption → the
decision sealed for the browser under ``K_response``. An unknown subject answers exactly like
``no_match``. No score and no liveness reason ever leaves the server: the browser hears a
decision and, at most, a hint it can act on; the relying party redeems the signed result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from secureface.crypto.envelope import EnvelopeCipher
from secureface.encoding import b64url_decode, canonical_json
from secureface.errors import BadRequestError, IntegrityError, PayloadTooLargeError, SessionError
from secureface.face import cosine_similarity, decode_image
from secureface.sessions.challenge import Challenge
from secureface.sessions.sealed import REQUEST_LABEL, RESPONSE_LABEL, open_message, seal_message
from secureface.sessions.service import SessionVault
from secureface.settings import Settings
from secureface.transactions.model import Transaction, TransactionStore
from secureface.transactions.result import ResultSigner
from secureface.transactions.service import check_consent, record_result_at
from secureface.verify.analysis import FaceEngine
from secureface.verify.answer import VerifyAnswer, client_hint
from secureface.verify.burst import assess_burst
from secureface.verify.liveness import Thresholds
from secureface.verify.lockout import LockoutPolicy, attempt_keys, reserve_at, settle_at
from secureface.verify.memory import (
    MEMORY_PER_SUBJECT,
    MEMORY_TTL_S,
    AcceptedStore,
    is_replay,
    open_fingerprints,
    seal_fingerprints,
)
from secureface.verify.records import (
    AttemptStore,
    AuditLog,
    TemplateStore,
    open_template,
    seal_template,
)
from secureface.verify.request import (
    MAX_ENROLL_BYTES,
    VerifyPayload,
    check_subject_id,
    parse_payload,
)

log = logging.getLogger(__name__)
MAX_ENROLL_IMAGES = 5


@dataclass(frozen=True)
class Decision:
    """The outcome of one attempt: ``decision`` and the private ``reason`` (log, audit)."""

    decision: str
    reason: str

    @property
    def hint(self) -> str:
        return client_hint(self.reason)


@dataclass
class VerifyService:
    """Everything verification needs; built once per instance by the runtime."""

    sessions: SessionVault
    biometrics: EnvelopeCipher
    transactions: TransactionStore
    result_signer: ResultSigner
    issuer: str
    templates: TemplateStore
    attempts: AttemptStore
    audit: AuditLog
    accepted: AcceptedStore
    engine: FaceEngine
    models: dict[str, str]
    thresholds: Thresholds = field(default_factory=Thresholds)
    policy: LockoutPolicy = field(default_factory=LockoutPolicy)
    deadline_s: int = Settings.verify_deadline_s
    frame_workers: int = 2
    #: Told of every decided attempt: ``(decision, reason, latency_ms, locked)`` (metrics;
    #: ``secureface.api.telemetry.observe_verify``). Never given the subject or a score.
    observe: Callable[[str, str, float, bool], None] | None = None

    def __post_init__(self) -> None:
        self._frames_pool = ThreadPoolExecutor(self.frame_workers, thread_name_prefix="frame")

    @property
    def embedding_model(self) -> str:
        return self.models["embedding"]

    def verify_at(self, body: dict[str, Any], client: str, *, now: int) -> dict[str, str]:
        """Handle one ``POST /verify``; returns the sealed answer.

        Raises:
            SessionError: unknown, expired, used or models-only session (401).
            IntegrityError: the payload does not open under the session's request key (400).
            BadRequestError, PayloadTooLargeError: malformed or oversized payload or frames,
                or a consent that does not name this transaction.
            StoreUnavailableError: the audit record or the result could not be written (the
                attempt then has no result: nothing reports it verified).
        """
        started = time.monotonic()
        record, keys = self.sessions.consume_at(str(body.get("session_id", "")), now=now)
        plaintext = open_message(keys.request, REQUEST_LABEL, record.session_id, body)
        payload = parse_payload(plaintext, capture_ms=record.challenge.capture_ms)
        transaction = self._transaction_of(record.transaction_id, record.session_id)
        check_consent(payload.consent, transaction, now=now)
        subject = transaction.request.subject
        keys_at = attempt_keys(subject, client)
        attempt = reserve_at(self.attempts, keys_at, now, self.policy)  # before any analysis
        locked = False
        if attempt is None:
            outcome = Decision("locked", "locked")
        else:
            outcome = Decision("not_verified", "error")  # what an exception below leaves
            try:
                if now - record.issued_at > self.deadline_s:
                    outcome = Decision("not_verified", "deadline")
                else:
                    outcome = self._decide(subject, payload, record.challenge, now)
            finally:
                verified = outcome.decision == "verified"
                locked = settle_at(
                    self.attempts, keys_at, attempt, now, self.policy, verified=verified
                )
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        self.audit.record(
            {"kind": "verify", "subject_id": subject, "session_id": record.session_id,
             "transaction_id": transaction.transaction_id, "client_id": transaction.client_id,
             "decision": outcome.decision, "reason": outcome.reason, "client": client,
             "assurance": record.challenge.mode, "frames": len(payload.frames),
             "consent": payload.consent.to_json(), "models": self.models,
             "latency_ms": latency_ms},
            now,
        )  # fmt: skip
        record_result_at(
            self.transactions, self.result_signer, self.issuer, transaction, record.session_id,
            decision=outcome.decision, assurance=record.challenge.mode, hint=outcome.hint,
            now=now,
        )  # fmt: skip
        log.info(
            "verify decided",
            extra={
                "session_id": record.session_id,
                "outcome": outcome.decision,
                "reason": outcome.reason,
                "duration_ms": latency_ms,
            },
        )
        if self.observe is not None:
            try:
                self.observe(outcome.decision, outcome.reason, latency_ms, locked)
            except Exception:  # metrics never decide an attempt
                log.warning("verify observer failed", exc_info=True)
        answer = VerifyAnswer(
            outcome.decision,
            outcome.hint,
            record.challenge.mode,
            transaction.transaction_id,
            record.session_id,
        )
        return seal_message(
            keys.response, RESPONSE_LABEL, record.session_id, canonical_json(answer.to_json())
        )

    def _transaction_of(self, transaction_id: str, session_id: str) -> Transaction:
        transaction = self.transactions.get(transaction_id) if transaction_id else None
        if transaction is None or transaction.session_id != session_id:
            raise SessionError(reason="session has no transaction awaiting its decision")
        return transaction

    def _decide(
        self, subject: str, payload: VerifyPayload, challenge: Challenge, now: int
    ) -> Decision:
        """The liveness check, the memory of accepted bursts and the match (the attempt's
        slots are already reserved)."""
        verdict = assess_burst(
            self.engine,
            challenge,
            payload.frames,
            payload.times_ms,
            self.thresholds,
            self._frames_pool.map,
        )
        if not verdict.passed or verdict.probe is None:
            return Decision("not_verified", verdict.reason)
        if self._replayed(subject, list(verdict.prints)):
            return Decision("not_verified", "replayed")
        if not self._matches(subject, verdict.probe):
            return Decision("not_verified", "no_match")
        self.accepted.remember(
            subject,
            seal_fingerprints(self.biometrics, subject, verdict.prints, now=now),
            now,
            MEMORY_TTL_S,
            MEMORY_PER_SUBJECT,
        )
        return Decision("verified", "ok")

    def _replayed(self, subject_id: str, prints: list[bytes]) -> bool:
        remembered = []
        for sealed in self.accepted.recent(subject_id):
            try:
                remembered.append(open_fingerprints(self.biometrics, subject_id, sealed))
            except IntegrityError as exc:
                log.error("remembered burst does not open", extra={"reason": exc.reason})
        return is_replay(prints, remembered)

    def _matches(self, subject_id: str, probe: NDArray[np.float32]) -> bool:
        record = self.templates.get(subject_id)
        if record is None:
            return False
        if record.model != self.embedding_model:
            log.warning(
                "template made by another model", extra={"reason": "template_model_mismatch"}
            )
            return False
        try:
            template = open_template(self.biometrics, record)
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
                text, field=f"images[{index}]", max_len=MAX_ENROLL_BYTES * 4 // 3 + 4
            )
            if len(data) > MAX_ENROLL_BYTES:
                raise PayloadTooLargeError(f"images[{index}] is over {MAX_ENROLL_BYTES} bytes")
            decoded.append(decode_image(data))
        embedding = self.engine.enrollment_embedding(decoded)
        version = self.templates.next_version(subject_id)
        sealed = seal_template(
            self.biometrics, subject_id, version, self.embedding_model, embedding, now=now
        )
        # Audited first: a template never changes unaudited. If the write then fails (503),
        # the record names a version that was not stored; the next enrollment reuses it.
        self.audit.record(
            {"kind": "enroll", "subject_id": subject_id, "version": version, "models": self.models},
            now,
        )
        self.templates.put(sealed)
        return {"subject_id": subject_id, "version": version, "model": self.embedding_model}

    def erase_at(self, subject_id: str, *, now: int) -> dict[str, Any]:
        """Delete a subject's template (erasure). Raises BadRequestError on a bad id."""
        subject_id = check_subject_id(subject_id)
        self.audit.record({"kind": "erase", "subject_id": subject_id}, now)  # first, as enroll
        deleted = self.templates.delete(subject_id)
        return {"subject_id": subject_id, "deleted": deleted}
