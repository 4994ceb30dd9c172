"""The verify use case in-process: every port an in-memory fake, the real models, rendered bursts.

What is checked here and not only through the stack: the decision order (session → deadline →
lock → liveness → memory → match), what is counted as a failure, what is audited, what the
client may learn, and the memory of accepted bursts.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from livesim import bursts, people
from livesim.challenges import seeded_challenge
from secureface.crypto.delegation import DelegatedSigner
from secureface.crypto.ecdsa import load_public_key
from secureface.crypto.envelope import EnvelopeCipher
from secureface.errors import SessionError
from secureface.sessions.challenge import MODE_MOTION
from secureface.sessions.exchange import finish_exchange_at, new_client_hello
from secureface.sessions.sealed import REQUEST_LABEL, RESPONSE_LABEL, open_message, seal_message
from secureface.sessions.service import open_session_at
from secureface.verify.assertion import Assertion, verify_assertion_at
from secureface.verify.lockout import LockoutPolicy
from secureface.verify.request import encode_payload
from secureface.verify.service import VerifyService
from tests.fakes import (
    LocalSigner,
    MemoryAccepted,
    MemoryAttempts,
    MemoryAudit,
    MemorySessions,
    MemoryTemplates,
    PlainDataKeys,
)
from tests.synth.models import face_engine

NOW = 1_764_316_800


class Harness:
    """A VerifyService over fakes, and a client side to talk to it."""

    def __init__(self, *, deadline_s: int = 90) -> None:
        self.root = LocalSigner()
        self.signer = DelegatedSigner(self.root.sign, self.root.public_key_der)
        self.envelope = EnvelopeCipher(PlainDataKeys())
        self.sessions, self.attempts = MemorySessions(), MemoryAttempts()
        self.audit, self.accepted = MemoryAudit(), MemoryAccepted()
        self.templates = MemoryTemplates()
        self.service = VerifyService(
            sessions=self.sessions, envelope=self.envelope, signer=self.signer,
            templates=self.templates, attempts=self.attempts, audit=self.audit,
            accepted=self.accepted, engine=face_engine(),
            models={"detector": "d/1", "embedding": "e/1", "antispoof": "a/1"},
            deadline_s=deadline_s, policy=LockoutPolicy(),
        )  # fmt: skip

    def enroll(self, subject: str, photo: Any) -> None:
        from secureface.encoding import b64url_encode
        from tests.synth.faces import to_jpeg

        self.service.enroll_at(
            {"subject_id": subject, "images": [b64url_encode(to_jpeg(photo))]}, now=NOW
        )

    def session(self, mode: str = "light", now: int = NOW, seed: int | None = None) -> Any:
        """A session; with ``seed``, its challenge is replaced in the server's record by a
        seeded one (the server decides from its record), so the test is reproducible."""
        key, nonce, body = new_client_hello(mode)
        answer = open_session_at(
            body, self.signer, self.sessions, self.envelope, now=now, allow_motion_only=True
        )
        session = finish_exchange_at(
            answer, key, nonce, load_public_key(self.root.public_key_der()), now=now
        )
        if seed is None:
            return session
        seeded = seeded_challenge(seed)
        if mode == MODE_MOTION:
            seeded = dataclasses.replace(seeded, mode=MODE_MOTION, light=())
        record = self.sessions.records[session.session_id]
        self.sessions.records[session.session_id] = dataclasses.replace(record, challenge=seeded)
        transcript = dataclasses.replace(session.transcript, challenge=seeded)
        return dataclasses.replace(session, transcript=transcript)

    def verify(self, session: Any, subject: str, burst: Any, *, now: int = NOW + 10) -> Assertion:
        payload = encode_payload(subject, list(burst.frames), list(burst.times_ms))
        sealed = seal_message(session.keys.request, REQUEST_LABEL, session.session_id, payload)
        answer = self.service.verify_at(
            {"session_id": session.session_id, **sealed}, "198.51.100.7", now=now
        )
        bundle = json.loads(
            open_message(session.keys.response, RESPONSE_LABEL, session.session_id, answer)
        )
        return verify_assertion_at(bundle, load_public_key(self.root.public_key_der()), now=now)

    def reason(self, assertion: Assertion) -> str:
        entry = next(e for e in self.audit.entries if e.get("session_id") == assertion.session_id)
        return str(entry["reason"])


@pytest.fixture(scope="module")
def harness() -> Harness:
    h = Harness()
    h.enroll("alice", people.astronaut())
    return h


def test_a_live_person_is_verified_and_the_burst_is_remembered_encrypted(harness: Harness) -> None:
    session = harness.session(seed=1)
    burst = bursts.genuine_burst(people.astronaut(), session.transcript.challenge, seed=11)
    assertion = harness.verify(session, "alice", burst)
    assert (assertion.decision, assertion.hint, assertion.assurance) == ("verified", "", "light")
    assert harness.reason(assertion) == "ok"
    (sealed,) = harness.accepted.recent("alice")[:1]
    assert burst.frames[0][:64] not in sealed.ciphertext


def test_an_animated_photo_is_refused_and_the_client_is_not_told_why(harness: Harness) -> None:
    session = harness.session()
    burst = bursts.animated_photo_burst(people.astronaut(), session.transcript.challenge, seed=12)
    assertion = harness.verify(session, "bob", burst)
    assert (assertion.decision, assertion.hint) == ("not_verified", "")
    assert harness.reason(assertion) == "light_not_reflected"
    assert harness.attempts.failures["subject:bob"]


def test_an_accepted_burst_sent_again_in_motion_mode_is_a_replay(harness: Harness) -> None:
    first = harness.session(MODE_MOTION, seed=2)
    burst = bursts.genuine_burst(people.astronaut(), first.transcript.challenge, seed=13)
    accepted = harness.verify(first, "alice", burst)
    assert (accepted.decision, accepted.assurance) == ("verified", "motion")
    again = harness.session(MODE_MOTION)
    # Give the second session the same moves (the server reads them from its own record), so
    # only the memory can tell: the moves, the depth and the identity all pass.
    record = harness.sessions.records[again.session_id]
    harness.sessions.records[again.session_id] = dataclasses.replace(
        record, challenge=first.transcript.challenge
    )
    refused = harness.verify(again, "alice", burst)
    assert refused.decision == "not_verified" and harness.reason(refused) == "replayed"


def test_an_attempt_after_the_deadline_is_refused_and_counted() -> None:
    h = Harness(deadline_s=60)
    session = h.session()
    burst = bursts.genuine_burst(people.astronaut(), session.transcript.challenge, seed=14)
    assertion = h.verify(session, "alice", burst, now=NOW + 61)
    assert assertion.decision == "not_verified" and h.reason(assertion) == "deadline"
    assert h.attempts.failures["subject:alice"] == [NOW + 61]


def test_a_locked_subject_is_refused_before_any_frame_is_looked_at() -> None:
    h = Harness()
    h.attempts.lock("subject:alice", NOW + 3600)
    session = h.session()
    # frames that would raise if decoded: a lock must answer before analysis
    burst = bursts.Burst(
        frames=(b"\xff\xd8\xffnot really a jpeg",) * 50, times_ms=tuple(range(0, 6000, 120))
    )
    assertion = h.verify(session, "alice", burst)
    assert (assertion.decision, h.reason(assertion)) == ("locked", "locked")


def test_an_unknown_subject_is_refused_like_a_non_match(harness: Harness) -> None:
    session = harness.session()
    burst = bursts.genuine_burst(people.astronaut(), session.transcript.challenge, seed=15)
    assertion = harness.verify(session, "nobody", burst)
    assert (assertion.decision, assertion.hint, harness.reason(assertion)) == (
        "not_verified", "", "no_match",
    )  # fmt: skip


def test_a_session_answers_once(harness: Harness) -> None:
    session = harness.session()
    burst = bursts.genuine_burst(people.astronaut(), session.transcript.challenge, seed=16)
    harness.verify(session, "nobody", burst)
    with pytest.raises(SessionError):
        harness.verify(session, "nobody", burst)


def test_the_audit_holds_the_reason_and_no_biometric_data(harness: Harness) -> None:
    entry = harness.audit.entries[-1]
    assert {"decision", "reason", "assurance", "frames", "latency_ms", "client"} <= set(entry)
    assert not {"embedding", "similarity", "score", "detail", "images"} & set(entry)
