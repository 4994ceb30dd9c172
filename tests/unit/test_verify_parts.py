"""Verify building blocks: sealed messages, the payload container and its consent, the sealed
answer, templates, lockout. Pure code with in-memory fakes and a fixed clock."""

from __future__ import annotations

import json

import numpy as np
import pytest

from secureface.crypto.envelope import EnvelopeCipher
from secureface.encoding import canonical_json
from secureface.errors import BadRequestError, IntegrityError, PayloadTooLargeError
from secureface.sessions.sealed import REQUEST_LABEL, RESPONSE_LABEL, open_message, seal_message
from secureface.transactions.model import CONSENT_NOTICE, LOCALES
from secureface.verify.answer import CLIENT_HINTS, VerifyAnswer
from secureface.verify.lockout import LockoutPolicy, attempt_keys, locked_at, reserve_at, settle_at
from secureface.verify.records import open_template, seal_template
from secureface.verify.request import (
    MAX_FRAME_BYTES,
    MAX_FRAMES,
    MAX_PAYLOAD,
    Consent,
    encode_payload,
    parse_payload,
)
from tests.fakes import MemoryAttempts, PlainDataKeys

NOW = 1_764_316_800
KEY = bytes(32)
SID = "A" * 22
TID = "T" * 22
ACCEPTED_MS = NOW * 1000 + 123
CONSENT = Consent(CONSENT_NOTICE, "en", ACCEPTED_MS, TID)
CONSENT_JSON = {
    "notice": CONSENT_NOTICE, "locale": "en", "accepted_at": ACCEPTED_MS, "transaction_id": TID,
}  # fmt: skip


def test_sealed_message_round_trips() -> None:
    body = seal_message(KEY, REQUEST_LABEL, SID, b"frames")
    assert open_message(KEY, REQUEST_LABEL, SID, body) == b"frames"


@pytest.mark.parametrize(
    "key,label,sid",
    [
        (bytes([1]) * 32, REQUEST_LABEL, SID),
        (KEY, RESPONSE_LABEL, SID),
        (KEY, REQUEST_LABEL, "B" * 22),
    ],
)
def test_sealed_message_refuses_wrong_key_direction_or_session(
    key: bytes, label: bytes, sid: str
) -> None:
    body = seal_message(KEY, REQUEST_LABEL, SID, b"frames")
    with pytest.raises(IntegrityError):
        open_message(key, label, sid, body)


@pytest.mark.parametrize(
    "body",
    [{}, {"nonce": "AAAA", "ciphertext": "AAAA"}, {"nonce": 5}, {"nonce": "!", "ciphertext": "x"}],
)
def test_garbage_sealed_messages_are_integrity_errors(body: dict[str, object]) -> None:
    with pytest.raises(IntegrityError):
        open_message(KEY, REQUEST_LABEL, SID, body)


JPEG = b"\xff\xd8\xff\xe0"


def meta_with(**fields: object) -> dict[str, object]:
    """A valid meta for one frame ``JPEG`` at t=0, with ``fields`` replaced."""
    return {"frames": [{"size": len(JPEG), "t": 0}], "consent": dict(CONSENT_JSON), **fields}


def container(meta: object, frames: bytes = JPEG) -> bytes:
    """The payload container around any ``meta``, as :func:`encode_payload` lays it out."""
    raw = json.dumps(meta, separators=(",", ":")).encode()
    return len(raw).to_bytes(4, "big") + raw + frames


def test_payload_round_trips() -> None:
    frames = [JPEG + b"one", JPEG + b"two", JPEG + b"three"]
    data = encode_payload(frames, [-5, 80, 170], CONSENT)
    payload = parse_payload(data, capture_ms=6000)
    assert payload.frames == tuple(frames) and payload.times_ms == (-5, 80, 170)
    assert payload.consent == CONSENT


def test_the_container_layout_is_length_meta_frames() -> None:
    data = encode_payload([JPEG + b"one"], [0], CONSENT)
    meta = {"frames": [{"size": len(JPEG) + 3, "t": 0}], "consent": CONSENT_JSON}
    assert data == container(meta, JPEG + b"one")
    assert parse_payload(container(meta, JPEG + b"one"), capture_ms=6000).consent == CONSENT


def test_an_empty_burst_is_refused() -> None:
    with pytest.raises(BadRequestError):
        parse_payload(encode_payload([], [], CONSENT), capture_ms=6000)


def test_a_burst_of_too_many_frames_is_refused() -> None:
    count = MAX_FRAMES + 1
    data = encode_payload([JPEG] * count, list(range(count)), CONSENT)
    with pytest.raises(PayloadTooLargeError):
        parse_payload(data, capture_ms=6000)


@pytest.mark.parametrize("frame", [b"\x89PNG\r\n\x1a\n", b"RIFF0000WEBP", b"GIF89a", b"x"])
def test_frames_that_are_not_jpeg_are_refused(frame: bytes) -> None:
    with pytest.raises(BadRequestError):
        parse_payload(encode_payload([frame], [0], CONSENT), capture_ms=6000)


def test_the_reference_meta_of_these_tests_is_accepted() -> None:
    """The refusals below differ from this accepted meta in exactly one thing."""
    payload = parse_payload(container(meta_with()), capture_ms=6000)
    assert payload.frames == (JPEG,) and payload.consent == CONSENT


@pytest.mark.parametrize("t", [-2001, 8001, 1.5, "10", True, None])
def test_frame_times_outside_the_capture_or_not_integers_are_refused(t: object) -> None:
    with pytest.raises(BadRequestError):
        parse_payload(container(meta_with(frames=[{"size": len(JPEG), "t": t}])), capture_ms=6000)


@pytest.mark.parametrize(
    "extra",
    [
        {"subject_id": "alice"},
        {"subject_id": {"$ne": None}},
        {"subject": "alice"},
        {"transaction_id": "T" * 22},
        {"liveness": "motion"},
        {"x": None},
    ],
)
def test_a_meta_with_a_subject_id_or_any_extra_key_is_refused(extra: dict[str, object]) -> None:
    """Who is verified comes from the relying party's transaction, never from the browser."""
    with pytest.raises(BadRequestError):
        parse_payload(container({**meta_with(), **extra}), capture_ms=6000)


@pytest.mark.parametrize("missing", ["frames", "consent"])
def test_a_meta_without_frames_or_consent_is_refused(missing: str) -> None:
    meta = meta_with()
    del meta[missing]
    with pytest.raises(BadRequestError):
        parse_payload(container(meta), capture_ms=6000)


@pytest.mark.parametrize("meta", [[], "frames", None, 5])
def test_a_meta_that_is_not_an_object_is_refused(meta: object) -> None:
    with pytest.raises(BadRequestError):
        parse_payload(container(meta), capture_ms=6000)


@pytest.mark.parametrize(
    "change",
    [
        {"notice": "2025-01.1"},
        {"notice": ""},
        {"notice": None},
        {"notice": [CONSENT_NOTICE]},
        {"locale": "fr"},
        {"locale": "EN"},
        {"locale": ""},
        {"locale": None},
        {"accepted_at": 1.5},
        {"accepted_at": float(NOW * 1000)},
        {"accepted_at": str(NOW * 1000)},
        {"accepted_at": True},
        {"accepted_at": None},
        {"transaction_id": 5},
        {"transaction_id": None},
        {"extra": "x"},
    ],
)
def test_a_consent_breaking_a_rule_is_refused(change: dict[str, object]) -> None:
    """Unknown notice or locale, a time that is not an integer of ms, extra fields."""
    with pytest.raises(BadRequestError):
        parse_payload(container(meta_with(consent={**CONSENT_JSON, **change})), capture_ms=6000)


@pytest.mark.parametrize("missing", ["notice", "locale", "accepted_at", "transaction_id"])
def test_a_consent_missing_a_field_is_refused(missing: str) -> None:
    consent = {k: v for k, v in CONSENT_JSON.items() if k != missing}
    with pytest.raises(BadRequestError):
        parse_payload(container(meta_with(consent=consent)), capture_ms=6000)


@pytest.mark.parametrize("consent", [None, [], "yes", True, NOW * 1000])
def test_a_consent_that_is_not_an_object_is_refused(consent: object) -> None:
    with pytest.raises(BadRequestError):
        parse_payload(container(meta_with(consent=consent)), capture_ms=6000)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_consent_in_every_shown_locale_is_accepted(locale: str) -> None:
    consent = Consent(CONSENT_NOTICE, locale, NOW * 1000, TID)
    assert parse_payload(encode_payload([JPEG], [0], consent), capture_ms=6000).consent == consent


def test_oversized_frames_are_refused() -> None:
    data = encode_payload([JPEG + b"x" * MAX_FRAME_BYTES], [0], CONSENT)
    with pytest.raises(PayloadTooLargeError):
        parse_payload(data, capture_ms=6000)


def test_an_oversized_payload_is_refused_before_parsing() -> None:
    with pytest.raises(PayloadTooLargeError):
        parse_payload(b"\x00" * (MAX_PAYLOAD + 1), capture_ms=6000)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\x00", b"\xff\xff\xff\xff{}", b"\x00\x00\x00\x02{}x", b"\x00\x00\x00\x03abc"],
)
def test_truncated_or_garbage_payloads_are_refused(data: bytes) -> None:
    with pytest.raises(BadRequestError):
        parse_payload(data, capture_ms=6000)


ANSWER = VerifyAnswer("verified", "", "light", TID, SID)


def test_verify_answer_round_trips() -> None:
    data = canonical_json(ANSWER.to_json())
    assert VerifyAnswer.parse(data, session_id=SID, transaction_id=TID) == ANSWER
    sealed = seal_message(KEY, RESPONSE_LABEL, SID, data)
    opened = open_message(KEY, RESPONSE_LABEL, SID, sealed)
    assert VerifyAnswer.parse(opened, session_id=SID, transaction_id=TID) == ANSWER


@pytest.mark.parametrize(
    "answer",
    [
        VerifyAnswer("not_verified", "too_dark", "motion", TID, SID),
        VerifyAnswer("locked", "", "light", TID, SID),
        *(VerifyAnswer("not_verified", hint, "light", TID, SID) for hint in CLIENT_HINTS),
    ],
)
def test_every_documented_answer_parses(answer: VerifyAnswer) -> None:
    data = canonical_json(answer.to_json())
    assert VerifyAnswer.parse(data, session_id=SID, transaction_id=TID) == answer


@pytest.mark.parametrize(
    "session_id,transaction_id", [("B" * 22, TID), (SID, "U" * 22), ("B" * 22, "U" * 22)]
)
def test_an_answer_about_another_session_or_transaction_is_refused(
    session_id: str, transaction_id: str
) -> None:
    data = canonical_json(ANSWER.to_json())
    with pytest.raises(IntegrityError):
        VerifyAnswer.parse(data, session_id=session_id, transaction_id=transaction_id)


@pytest.mark.parametrize(
    "change",
    [
        {"decision": "accepted"},
        {"decision": "Verified"},
        {"decision": True},
        {"hint": "no_match"},
        {"hint": "light_not_reflected"},
        {"hint": None},
        {"assurance": "high"},
        {"assurance": ""},
        {"type": "secureface-assertion"},
        {"session_id": 5},
    ],
)
def test_an_answer_with_an_unknown_value_is_refused(change: dict[str, object]) -> None:
    data = canonical_json({**ANSWER.to_json(), **change})
    with pytest.raises(IntegrityError):
        VerifyAnswer.parse(data, session_id=SID, transaction_id=TID)


@pytest.mark.parametrize("extra", [{"score": 0.9}, {"subject_id": "alice"}, {"result": "x.y.z"}])
def test_an_answer_with_extra_keys_is_refused(extra: dict[str, object]) -> None:
    data = canonical_json({**ANSWER.to_json(), **extra})
    with pytest.raises(IntegrityError):
        VerifyAnswer.parse(data, session_id=SID, transaction_id=TID)


@pytest.mark.parametrize(
    "missing", ["type", "decision", "hint", "assurance", "transaction_id", "session_id"]
)
def test_an_answer_missing_a_key_is_refused(missing: str) -> None:
    data = canonical_json({k: v for k, v in ANSWER.to_json().items() if k != missing})
    with pytest.raises(IntegrityError):
        VerifyAnswer.parse(data, session_id=SID, transaction_id=TID)


@pytest.mark.parametrize("data", [b"", b"not json", b"[]", b'"verified"', b"null", b"{}"])
def test_garbage_answers_are_refused(data: bytes) -> None:
    with pytest.raises(IntegrityError):
        VerifyAnswer.parse(data, session_id=SID, transaction_id=TID)


def test_the_answer_carries_no_score() -> None:
    """The browser learns the decision, a hint it can act on, and which attempt: nothing else
    (no score, no liveness reason, no subject, nothing a third party could take as proof)."""
    fields = VerifyAnswer("not_verified", "", "light", TID, SID).to_json()
    assert set(fields) == {"type", "decision", "hint", "assurance", "transaction_id", "session_id"}
    assert all(isinstance(v, str) for v in fields.values())


def test_template_is_bound_to_subject_version_and_model() -> None:
    envelope = EnvelopeCipher(PlainDataKeys())
    embedding = np.arange(128, dtype=np.float32) / 128
    record = seal_template(envelope, "alice", 2, "sface/2021dec", embedding, now=NOW)
    assert np.array_equal(open_template(envelope, record), embedding)
    assert embedding.tobytes() not in record.sealed.ciphertext
    for moved in (
        record.__class__("mallory", 2, record.model, NOW, record.sealed),
        record.__class__("alice", 1, record.model, NOW, record.sealed),
        record.__class__("alice", 2, "other/1", NOW, record.sealed),
    ):
        with pytest.raises(IntegrityError):
            open_template(envelope, moved)


def fail_at(store: MemoryAttempts, keys: tuple[str, str], now: int, policy: LockoutPolicy) -> bool:
    """One attempt that ends refused: reserved, then settled as a failure; whether it locked."""
    attempt = reserve_at(store, keys, now, policy)
    assert attempt is not None
    return settle_at(store, keys, attempt, now, policy, verified=False)


def test_five_failures_in_three_minutes_lock_subject_and_client() -> None:
    store, policy = MemoryAttempts(), LockoutPolicy()
    keys = attempt_keys("alice", "203.0.113.9")
    for i in range(4):
        assert not fail_at(store, keys, NOW + i * 30, policy)
    assert not locked_at(store, keys, NOW + 120)
    assert fail_at(store, keys, NOW + 150, policy)
    assert locked_at(store, ("subject:alice",), NOW + 151)
    assert locked_at(store, ("client:203.0.113.9",), NOW + 151)
    assert reserve_at(store, keys, NOW + 151, policy) is None  # nothing more is analysed
    assert not locked_at(store, keys, NOW + 150 + policy.lock_s)


def test_failures_spread_beyond_the_window_do_not_lock() -> None:
    store, policy = MemoryAttempts(), LockoutPolicy()
    keys = attempt_keys("alice", "c")
    for i in range(10):
        assert not fail_at(store, keys, NOW + i * 50, policy)


def test_a_verified_attempt_gives_its_slots_back() -> None:
    store, policy = MemoryAttempts(), LockoutPolicy()
    keys = attempt_keys("alice", "c")
    for i in range(20):
        attempt = reserve_at(store, keys, NOW + i, policy)
        assert attempt is not None
        assert not settle_at(store, keys, attempt, NOW + i, policy, verified=True)
    assert store.count("subject:alice", NOW + 20, policy.window_s) == 0


def test_attempts_in_flight_take_the_slots_failures_would() -> None:
    """The check-then-act race: 20 attempts reserved at once, before any ends, against a limit
    of 5 — exactly 5 go on to be analysed, on the subject and on the client alike."""
    store, policy = MemoryAttempts(), LockoutPolicy()
    taken = [reserve_at(store, attempt_keys("alice", f"c{i}"), NOW, policy) for i in range(20)]
    assert sum(a is not None for a in taken) == 5
    by_client = [reserve_at(store, attempt_keys(f"s{i}", "c"), NOW, policy) for i in range(20)]
    assert sum(a is not None for a in by_client) == 5
    # A subject refused on the client key gives back what it took on its own key.
    assert store.count("subject:s19", NOW, policy.window_s) == 0
