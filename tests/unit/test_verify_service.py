"""The verify use case in-process: every port an in-memory fake, the real models, rendered bursts.

What is checked here and not only through the stack: the decision order (session → deadline →
lock → liveness → memory → match), what is counted as a failure, what is audited, what the
client may learn, the memory of accepted bursts, and that the relying party's result says the
same as the browser's answer, for the transaction's subject.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from typing import Any

import pytest

from facesynth.models import face_engine
from livesim import bursts, people
from livesim.challenges import seeded_challenge
from secureface.crypto.delegation import DelegatedSigner
from secureface.crypto.ecdsa import load_public_key
from secureface.crypto.envelope import EnvelopeCipher
from secureface.errors import (
    BadRequestError,
    ClientTokenError,
    PendingError,
    SessionError,
    StoreUnavailableError,
)
from secureface.sessions.challenge import MODE_MOTION
from secureface.sessions.exchange import ClientSession, finish_exchange_at, new_client_hello
from secureface.sessions.records import SessionRecord
from secureface.sessions.sealed import REQUEST_LABEL, RESPONSE_LABEL, open_message, seal_message
from secureface.sessions.service import KeyExchangeService, SessionVault
from secureface.transactions.model import CONSENT_NOTICE, STATUS_STARTED
from secureface.transactions.registry import Registry
from secureface.transactions.result import DECISIONS, Result, verify_result
from secureface.transactions.service import TransactionService
from secureface.verify.answer import VerifyAnswer
from secureface.verify.lockout import LockoutPolicy
from secureface.verify.records import TemplateRecord
from secureface.verify.request import Consent, encode_payload
from secureface.verify.service import VerifyService
from tests.fakes import (
    AUTHORIZATION,
    CLIENT_ID,
    REGISTRY,
    RETURN_URL,
    LocalResultSigner,
    LocalSigner,
    MemoryAccepted,
    MemoryAttempts,
    MemoryAudit,
    MemorySecret,
    MemorySessions,
    MemoryTemplates,
    MemoryTransactions,
    PlainDataKeys,
)

NOW = 1_764_316_800
ISSUER = "https://api.secureface.example"


@dataclass(frozen=True)
class Login:
    """A relying party's transaction for one login."""

    transaction_id: str
    client_token: str
    subject: str
    nonce: str


@dataclass(frozen=True)
class Outcome:
    """One attempt: what the browser opened and what the relying party redeemed and checked."""

    answer: VerifyAnswer
    result: Result

    @property
    def decision(self) -> str:
        return self.answer.decision

    @property
    def session_id(self) -> str:
        return self.answer.session_id


class Harness:
    """A VerifyService over fakes, a relying party starting transactions, and a client side."""

    def __init__(self, *, deadline_s: int = 90, sessions: MemorySessions | None = None) -> None:
        self.root = LocalSigner()
        self.signer = DelegatedSigner(self.root.sign, self.root.public_key_der)
        self.result_signer = LocalResultSigner()
        self.envelope = EnvelopeCipher(PlainDataKeys())
        self.sessions, self.attempts = sessions or MemorySessions(), MemoryAttempts()
        self.audit, self.accepted = MemoryAudit(), MemoryAccepted()
        self.templates, self.transactions = MemoryTemplates(), MemoryTransactions()
        self.rp = TransactionService(
            store=self.transactions, registry=Registry(MemorySecret(REGISTRY)), audit=self.audit,
            frontend_url="https://face.example",
        )  # fmt: skip
        self.logins: dict[str, Login] = {}
        self.vault = SessionVault(self.sessions, self.envelope)
        self.key_exchange = KeyExchangeService(
            self.signer, self.vault, self.transactions, allow_motion_only=True
        )
        self.service = VerifyService(
            sessions=self.vault,
            biometrics=EnvelopeCipher(PlainDataKeys()), transactions=self.transactions,
            result_signer=self.result_signer, issuer=ISSUER,
            templates=self.templates, attempts=self.attempts, audit=self.audit,
            accepted=self.accepted, engine=face_engine(),
            models={"detector": "d/1", "embedding": "e/1", "antispoof": "a/1"},
            deadline_s=deadline_s, policy=LockoutPolicy(),
        )  # fmt: skip

    def enroll(self, subject: str, photo: Any) -> None:
        from facesynth.faces import to_jpeg
        from secureface.encoding import b64url_encode

        self.service.enroll_at(
            {"subject_id": subject, "images": [b64url_encode(to_jpeg(photo))]}, now=NOW
        )

    def login(self, subject: str, now: int = NOW) -> Login:
        """The relying party starts a transaction for ``subject``."""
        nonce = secrets.token_urlsafe(24)
        body = {"subject": subject, "nonce": nonce, "return_url": RETURN_URL, "state": "s1"}
        started = self.rp.start_at(AUTHORIZATION, body, now=now)
        return Login(started["transaction_id"], started["client_token"], subject, nonce)

    def open(
        self, token: str, *, mode: str = "light", purpose: str = "verify", now: int = NOW
    ) -> ClientSession:
        key, nonce, body = new_client_hello(mode)
        body = {**body, "client_token": token, "purpose": purpose}
        answer = self.key_exchange.open_at(body, now=now)
        return finish_exchange_at(
            answer, key, nonce, load_public_key(self.root.public_key_der()), now=now
        )

    def session(
        self, subject: str, mode: str = "light", now: int = NOW, seed: int | None = None
    ) -> ClientSession:
        """A verify session of a new transaction for ``subject``; with ``seed``, its challenge
        is replaced in the server's record by a seeded one (the server decides from its
        record), so the test is reproducible."""
        login = self.login(subject, now)
        session = self.open(login.client_token, mode=mode, now=now)
        self.logins[session.session_id] = login
        if seed is None:
            return session
        seeded = seeded_challenge(seed)
        if mode == MODE_MOTION:
            seeded = dataclasses.replace(seeded, mode=MODE_MOTION, light=())
        record = self.sessions.records[session.session_id]
        self.sessions.records[session.session_id] = dataclasses.replace(record, challenge=seeded)
        transcript = dataclasses.replace(session.transcript, challenge=seeded)
        return dataclasses.replace(session, transcript=transcript)

    def post(
        self, session: ClientSession, burst: Any, *, now: int, consent: Consent | None = None
    ) -> VerifyAnswer:
        """``POST /verify`` as the hosted page does; the opened, checked answer."""
        login = self.logins[session.session_id]
        consent = consent or Consent(CONSENT_NOTICE, "en", now * 1000 - 4000, login.transaction_id)
        payload = encode_payload(list(burst.frames), list(burst.times_ms), consent)
        sealed = seal_message(session.keys.request, REQUEST_LABEL, session.session_id, payload)
        answer = self.service.verify_at(
            {"session_id": session.session_id, **sealed}, "198.51.100.7", now=now
        )
        opened = open_message(session.keys.response, RESPONSE_LABEL, session.session_id, answer)
        return VerifyAnswer.parse(
            opened, session_id=session.session_id, transaction_id=login.transaction_id
        )

    def verify(self, session: ClientSession, burst: Any, *, now: int = NOW + 10) -> Outcome:
        """An attempt, then the relying party redeems and checks the result: it must say what
        the browser was told, about the transaction's subject."""
        answer = self.post(session, burst, now=now)
        login = self.logins[session.session_id]
        redeemed = self.rp.redeem_at(AUTHORIZATION, login.transaction_id, now=now + 1)
        result = verify_result(
            redeemed["result"], keys=self.result_signer.jwks(), issuer=ISSUER,
            audience=CLIENT_ID, nonce=login.nonce, subject=login.subject, now=now + 1,
            accept=DECISIONS,
        )  # fmt: skip
        assert (result.decision, result.hint, result.assurance) == (
            answer.decision, answer.hint, answer.assurance,
        )  # fmt: skip
        assert result.transaction_id == login.transaction_id == answer.transaction_id
        return Outcome(answer, result)

    def reason(self, outcome: Outcome) -> str:
        entry = next(
            e
            for e in self.audit.entries
            if e.get("kind") == "verify" and e.get("session_id") == outcome.session_id
        )
        return str(entry["reason"])


@pytest.fixture(scope="module")
def harness() -> Harness:
    h = Harness()
    h.enroll("alice", people.astronaut())
    return h


def test_a_live_person_is_verified_and_the_burst_is_remembered_encrypted(harness: Harness) -> None:
    session = harness.session("alice", seed=1)
    burst = bursts.genuine_burst(people.astronaut(), session.transcript.challenge, seed=11)
    outcome = harness.verify(session, burst)
    assert (outcome.decision, outcome.answer.hint, outcome.answer.assurance) == (
        "verified", "", "light",
    )  # fmt: skip
    assert outcome.result.verified and outcome.result.subject == "alice"
    assert harness.reason(outcome) == "ok"
    (sealed,) = harness.accepted.recent("alice")[:1]
    assert burst.frames[0][:64] not in sealed.ciphertext


def test_an_animated_photo_is_refused_and_the_client_is_not_told_why(harness: Harness) -> None:
    session = harness.session("bob")
    burst = bursts.animated_photo_burst(people.astronaut(), session.transcript.challenge, seed=12)
    outcome = harness.verify(session, burst)
    assert (outcome.decision, outcome.answer.hint) == ("not_verified", "")
    assert (outcome.result.decision, outcome.result.subject) == ("not_verified", "bob")
    assert harness.reason(outcome) == "light_not_reflected"
    assert harness.attempts.count("subject:bob", NOW + 60, 180) == 1  # counted: a failure


def test_an_accepted_burst_sent_again_in_motion_mode_is_a_replay(harness: Harness) -> None:
    first = harness.session("alice", MODE_MOTION, seed=2)
    burst = bursts.genuine_burst(people.astronaut(), first.transcript.challenge, seed=13)
    accepted = harness.verify(first, burst)
    assert (accepted.decision, accepted.answer.assurance) == ("verified", "motion")
    assert accepted.result.assurance == "motion"
    again = harness.session("alice", MODE_MOTION)
    # Give the second session the same moves (the server reads them from its own record), so
    # only the memory can tell: the moves, the depth and the identity all pass.
    record = harness.sessions.records[again.session_id]
    harness.sessions.records[again.session_id] = dataclasses.replace(
        record, challenge=first.transcript.challenge
    )
    refused = harness.verify(again, burst)
    assert refused.decision == "not_verified" and harness.reason(refused) == "replayed"


def test_an_attempt_after_the_deadline_is_refused_and_counted() -> None:
    h = Harness(deadline_s=60)
    session = h.session("alice")
    burst = bursts.genuine_burst(people.astronaut(), session.transcript.challenge, seed=14)
    outcome = h.verify(session, burst, now=NOW + 61)
    assert outcome.decision == "not_verified" and h.reason(outcome) == "deadline"
    assert [t for _, t in h.attempts.attempts["subject:alice"]] == [NOW + 61]


def test_a_locked_subject_is_refused_before_any_frame_is_looked_at() -> None:
    h = Harness()
    h.attempts.lock("subject:alice", NOW + 3600)
    session = h.session("alice")
    # frames that would raise if decoded: a lock must answer before analysis
    burst = bursts.Burst(
        frames=(b"\xff\xd8\xffnot really a jpeg",) * 50, times_ms=tuple(range(0, 6000, 120))
    )
    outcome = h.verify(session, burst)
    assert (outcome.decision, h.reason(outcome)) == ("locked", "locked")
    assert outcome.result.decision == "locked"


def test_an_unknown_subject_is_refused_like_a_non_match(harness: Harness) -> None:
    session = harness.session("nobody")
    burst = bursts.genuine_burst(people.astronaut(), session.transcript.challenge, seed=15)
    outcome = harness.verify(session, burst)
    assert (outcome.decision, outcome.answer.hint, harness.reason(outcome)) == (
        "not_verified", "", "no_match",
    )  # fmt: skip


def test_a_session_answers_once(harness: Harness) -> None:
    session = harness.session("nobody")
    burst = bursts.genuine_burst(people.astronaut(), session.transcript.challenge, seed=16)
    harness.verify(session, burst)
    with pytest.raises(SessionError):
        harness.post(session, burst, now=NOW + 12)


def test_the_audit_holds_the_reason_and_consent_and_no_biometric_data(harness: Harness) -> None:
    entry = next(e for e in reversed(harness.audit.entries) if e["kind"] == "verify")
    assert {"decision", "reason", "assurance", "frames", "latency_ms", "client"} <= set(entry)
    assert not {"embedding", "similarity", "score", "detail", "images"} & set(entry)
    login = harness.logins[entry["session_id"]]
    assert (entry["transaction_id"], entry["client_id"], entry["subject_id"]) == (
        login.transaction_id, CLIENT_ID, login.subject,
    )  # fmt: skip
    assert entry["consent"] == {
        "notice": CONSENT_NOTICE, "locale": "en", "accepted_at": entry["at"] * 1000 - 4000,
        "transaction_id": login.transaction_id,
    }  # fmt: skip
    tokens = [login.client_token for login in harness.logins.values()]
    assert not any(token in repr(harness.audit.entries) for token in tokens)


# What an attacker holding a browser's side may try; none of these needs a face analysed.


def test_a_models_session_cannot_be_used_for_verify() -> None:
    h = Harness()
    login = h.login("alice")
    models = h.open(login.client_token, purpose="models")
    h.logins[models.session_id] = login
    with pytest.raises(SessionError):
        h.post(models, bursts.Burst(frames=(b"\xff\xd8\xff",), times_ms=(0,)), now=NOW + 5)
    assert h.transactions.records[login.transaction_id].result == ""


class ForgetfulSessions(MemorySessions):
    """A store that would hand out any unused session, models ones included."""

    def consume_at(self, session_id: str, now: int) -> SessionRecord | None:
        record = self.records.get(session_id)
        if record is None or record.used or now >= record.expires_at:
            return None
        self.records[session_id] = dataclasses.replace(record, used=True)
        return record


def test_the_service_itself_refuses_a_session_that_is_not_its_transactions_verify_session() -> None:
    """Even if the store let a models session through, no decision is made or recorded on it:
    it is not the session the transaction was started with."""
    h = Harness(sessions=ForgetfulSessions())
    login = h.login("alice")
    models = h.open(login.client_token, purpose="models")
    verify = h.open(login.client_token)
    h.logins[models.session_id] = h.logins[verify.session_id] = login
    with pytest.raises(SessionError):
        h.post(models, bursts.Burst(frames=(b"\xff\xd8\xff",), times_ms=(0,)), now=NOW + 5)
    transaction = h.transactions.records[login.transaction_id]
    assert (transaction.status, transaction.session_id, transaction.result) == (
        STATUS_STARTED, verify.session_id, "",
    )  # fmt: skip
    assert not [e for e in h.audit.entries if e["kind"] == "verify"]


def test_a_client_token_opens_one_verify_session() -> None:
    h = Harness()
    login = h.login("alice")
    h.open(login.client_token)
    with pytest.raises(ClientTokenError):
        h.open(login.client_token)
    with pytest.raises(ClientTokenError):
        h.open(login.client_token, purpose="models")


@pytest.mark.parametrize(
    "change",
    [
        {"transaction_id": "T" * 22},
        {"accepted_at_ms": (NOW - 3600) * 1000},
        {"accepted_at_ms": (NOW + 3600) * 1000},
    ],
)
def test_a_consent_for_another_transaction_or_time_is_refused_and_nothing_is_recorded(
    change: dict[str, Any],
) -> None:
    h = Harness()
    # locked: with an acceptable consent, a decision ("locked") would be made on the spot
    h.attempts.lock("subject:alice", NOW + 3600)
    session = h.session("alice")
    login = h.logins[session.session_id]
    consent = Consent(CONSENT_NOTICE, "en", NOW * 1000, login.transaction_id)
    burst = bursts.Burst(frames=(b"\xff\xd8\xffnot really a jpeg",), times_ms=(0,))
    with pytest.raises(BadRequestError, match="consent"):
        h.post(session, burst, now=NOW + 5, consent=dataclasses.replace(consent, **change))
    with pytest.raises(PendingError):
        h.rp.redeem_at(AUTHORIZATION, login.transaction_id, now=NOW + 6)
    assert not any(h.attempts.attempts.values()) and not [
        e for e in h.audit.entries if e["kind"] == "verify"
    ]


def test_the_consent_of_the_transaction_lets_the_attempt_be_decided() -> None:
    """The control of the test above: the same attempt with its own consent is decided."""
    h = Harness()
    h.attempts.lock("subject:alice", NOW + 3600)
    session = h.session("alice")
    burst = bursts.Burst(frames=(b"\xff\xd8\xffnot really a jpeg",), times_ms=(0,))
    assert h.verify(session, burst, now=NOW + 5).decision == "locked"


def test_every_decided_attempt_is_observed_and_the_fifth_failure_engages_a_lock() -> None:
    """The metrics' view: decision, reason, latency and whether this attempt set a lock — never
    the subject. An observer that fails changes nothing about the attempt."""
    h = Harness(deadline_s=60)
    seen: list[tuple[str, str, float, bool]] = []
    h.service.observe = lambda *args: seen.append(args)
    late = bursts.Burst(
        frames=(b"\xff\xd8\xffnot decoded",) * 50, times_ms=tuple(range(0, 6000, 120))
    )
    for _ in range(6):
        h.verify(h.session("carol"), late, now=NOW + 61)
    assert [(d, r, locked) for d, r, _, locked in seen] == [
        *[("not_verified", "deadline", False)] * 4,
        ("not_verified", "deadline", True),
        ("locked", "locked", False),
    ]
    assert all(isinstance(ms, float) and ms >= 0 for _, _, ms, _ in seen)

    def broken(*_: object) -> None:
        raise RuntimeError("metrics backend down")

    h.service.observe = broken  # the client is locked too (per client): answered all the same
    assert h.verify(h.session("dave"), late, now=NOW + 61).decision == "locked"


class _DownSessions(MemorySessions):
    """The session store failing every write (MongoDB gone between the claim and the insert)."""

    def insert(self, record: SessionRecord) -> None:
        raise StoreUnavailableError(reason="mongo insert failed")


@pytest.mark.parametrize("purpose", ["verify", "models"])
def test_a_session_that_cannot_be_stored_gives_its_claim_back(purpose: str) -> None:
    """Nothing half-written: the token a failed key exchange claimed is usable again."""
    h = Harness(sessions=_DownSessions())
    login = h.login("alice")
    with pytest.raises(StoreUnavailableError):
        h.open(login.client_token, purpose=purpose)
    h.vault.store = h.sessions = MemorySessions()  # the store is back
    opened = h.open(login.client_token, purpose=purpose)
    assert h.transactions.records[login.transaction_id].session_id == (
        opened.session_id if purpose == "verify" else ""
    )
    if purpose == "models":
        assert h.transactions.model_sessions[login.transaction_id] == 1


class _DownTemplates(MemoryTemplates):
    def put(self, record: TemplateRecord) -> None:
        raise StoreUnavailableError(reason="mongo update failed")


class _DownAudit(MemoryAudit):
    def record(self, entry: dict[str, Any], now: int) -> None:
        raise StoreUnavailableError(reason="mongo insert failed")


def test_a_template_never_changes_unaudited() -> None:
    """The audit record is written before the template: an audit that cannot be written leaves
    the enrolled template as it was; a template that cannot be written is still audited."""
    h = Harness()
    h.enroll("alice", people.astronaut())
    before = h.templates.records["alice"]
    h.service.audit = _DownAudit()
    with pytest.raises(StoreUnavailableError):
        h.enroll("alice", people.astronaut())
    assert h.templates.records["alice"] == before
    with pytest.raises(StoreUnavailableError):
        h.service.erase_at("alice", now=NOW)
    assert h.templates.records["alice"] == before
    h.service.audit, h.service.templates = h.audit, _DownTemplates()
    h.service.templates.records = h.templates.records
    with pytest.raises(StoreUnavailableError):
        h.enroll("alice", people.astronaut())
    assert h.audit.entries[-1] | {"at": 0} == {
        "kind": "enroll", "subject_id": "alice", "version": 2, "at": 0,
        "models": h.service.models,
    }  # fmt: skip
