"""Verify building blocks: sealed messages, the payload container, assertions, templates,
lockout. Pure code with in-memory fakes and a fixed clock."""

from __future__ import annotations

import json

import numpy as np
import pytest

from secureface.crypto.delegation import DelegatedSigner
from secureface.crypto.ecdsa import load_public_key
from secureface.crypto.envelope import EnvelopeCipher
from secureface.encoding import b64url_decode
from secureface.errors import BadRequestError, IntegrityError, PayloadTooLargeError
from secureface.sessions.sealed import REQUEST_LABEL, RESPONSE_LABEL, open_message, seal_message
from secureface.verify.assertion import Assertion, sign_assertion_at, verify_assertion_at
from secureface.verify.lockout import LockoutPolicy, attempt_keys, locked_at, register_failure_at
from secureface.verify.records import open_template, seal_template
from secureface.verify.request import (
    MAX_FRAME_BYTES,
    MAX_FRAMES,
    MAX_PAYLOAD,
    encode_payload,
    parse_payload,
)
from tests.fakes import LocalSigner, MemoryAttempts, PlainDataKeys

NOW = 1_764_316_800
KEY = bytes(32)
SID = "A" * 22


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


def test_payload_round_trips() -> None:
    frames = [JPEG + b"one", JPEG + b"two", JPEG + b"three"]
    data = encode_payload("alice", frames, [-5, 80, 170])
    payload = parse_payload(data, capture_ms=6000)
    assert payload.subject_id == "alice" and payload.frames == tuple(frames)
    assert payload.times_ms == (-5, 80, 170)


def test_an_empty_burst_is_refused() -> None:
    with pytest.raises(BadRequestError):
        parse_payload(encode_payload("alice", [], []), capture_ms=6000)


def test_a_burst_of_too_many_frames_is_refused() -> None:
    count = MAX_FRAMES + 1
    data = encode_payload("alice", [JPEG] * count, list(range(count)))
    with pytest.raises(PayloadTooLargeError):
        parse_payload(data, capture_ms=6000)


@pytest.mark.parametrize("frame", [b"\x89PNG\r\n\x1a\n", b"RIFF0000WEBP", b"GIF89a", b"x"])
def test_frames_that_are_not_jpeg_are_refused(frame: bytes) -> None:
    with pytest.raises(BadRequestError):
        parse_payload(encode_payload("alice", [frame], [0]), capture_ms=6000)


@pytest.mark.parametrize("t", [-2001, 8001, 1.5, "10", True, None])
def test_frame_times_outside_the_capture_or_not_integers_are_refused(t: object) -> None:
    meta = json.dumps({"subject_id": "a", "frames": [{"size": len(JPEG), "t": t}]}).encode()
    with pytest.raises(BadRequestError):
        parse_payload(len(meta).to_bytes(4, "big") + meta + JPEG, capture_ms=6000)


@pytest.mark.parametrize("subject", [{"$ne": None}, "", "a/b", "../x", "x" * 65, 5, None, "$where"])
def test_subject_ids_that_are_not_plain_strings_are_refused(subject: object) -> None:
    meta = json.dumps({"subject_id": subject, "frames": [{"size": 4, "t": 0}]}).encode()
    with pytest.raises(BadRequestError):
        parse_payload(len(meta).to_bytes(4, "big") + meta + JPEG, capture_ms=6000)


def test_oversized_frames_are_refused() -> None:
    data = encode_payload("alice", [JPEG + b"x" * MAX_FRAME_BYTES], [0])
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


def test_assertion_verifies_against_the_pinned_key_only() -> None:
    root = LocalSigner()
    signer = DelegatedSigner(root.sign, root.public_key_der)
    assertion = Assertion("alice", "verified", "", "light", SID, NOW, NOW + 300)
    bundle = sign_assertion_at(assertion, signer, now=NOW)
    assert (
        verify_assertion_at(bundle, load_public_key(root.public_key_der()), now=NOW + 1)
        == assertion
    )
    with pytest.raises(IntegrityError):
        verify_assertion_at(bundle, load_public_key(LocalSigner().public_key_der()), now=NOW)
    with pytest.raises(IntegrityError):
        verify_assertion_at(bundle, load_public_key(root.public_key_der()), now=NOW + 300)
    header, payload, sig = bundle["assertion"].split(".")
    forged = {**bundle, "assertion": f"{header}.{payload[:-2]}AA.{sig}"}
    with pytest.raises(IntegrityError):
        verify_assertion_at(forged, load_public_key(root.public_key_der()), now=NOW)


def test_assertion_carries_no_score() -> None:
    root = LocalSigner()
    signer = DelegatedSigner(root.sign, root.public_key_der)
    assertion = Assertion("a", "not_verified", "", "light", SID, NOW, NOW + 1)
    payload = json.loads(
        b64url_decode(sign_assertion_at(assertion, signer, now=NOW)["assertion"].split(".")[1])
    )
    assert set(payload) == {
        "type",
        "subject_id",
        "decision",
        "hint",
        "assurance",
        "session_id",
        "issued_at",
        "expires_at",
    }


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


def test_five_failures_in_three_minutes_lock_subject_and_client() -> None:
    store, policy = MemoryAttempts(), LockoutPolicy()
    keys = attempt_keys("alice", "203.0.113.9")
    for i in range(4):
        assert not register_failure_at(store, keys, NOW + i * 30, policy)
    assert not locked_at(store, keys, NOW + 120)
    assert register_failure_at(store, keys, NOW + 150, policy)
    assert locked_at(store, ("subject:alice",), NOW + 151)
    assert locked_at(store, ("client:203.0.113.9",), NOW + 151)
    assert not locked_at(store, keys, NOW + 150 + policy.lock_s)


def test_failures_spread_beyond_the_window_do_not_lock() -> None:
    store, policy = MemoryAttempts(), LockoutPolicy()
    keys = attempt_keys("alice", "c")
    for i in range(10):
        assert not register_failure_at(store, keys, NOW + i * 50, policy)
