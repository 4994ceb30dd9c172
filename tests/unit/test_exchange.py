"""Key exchange: both sides agree, and the client refuses every forged or stale answer."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.delegation import DelegatedSigner, issue_delegation, verify_delegation_at
from secureface.crypto.ecdsa import load_public_key
from secureface.encoding import b64url_decode, b64url_encode
from secureface.errors import BadRequestError, IntegrityError
from secureface.sessions.exchange import (
    accept_exchange_at,
    finish_exchange_at,
    new_client_hello,
)
from tests.fakes import LocalSigner

NOW = 1_764_316_800


@pytest.fixture
def root() -> LocalSigner:
    return LocalSigner()


def delegated(root: LocalSigner, validity: int = 3600) -> DelegatedSigner:
    return DelegatedSigner(root.sign, root.public_key_der, validity_s=validity)


def pinned(root: LocalSigner) -> ec.EllipticCurvePublicKey:
    return load_public_key(root.public_key_der())


def exchange(root: LocalSigner, signer: DelegatedSigner | None = None):  # type: ignore[no-untyped-def]
    key, nonce, body = new_client_hello()
    server = accept_exchange_at(body, signer or delegated(root), now=NOW)
    return key, nonce, server


def test_both_sides_derive_the_same_distinct_keys(root: LocalSigner) -> None:
    key, nonce, server = exchange(root)
    client = finish_exchange_at(server.response, key, nonce, pinned(root), now=NOW + 1)
    assert client.keys == server.keys
    assert len({client.keys.model, client.keys.request, client.keys.response}) == 3
    assert client.transcript.challenge == server.transcript.challenge
    assert client.transcript.challenge.moves[0] == "center"
    assert client.transcript.challenge.mode == "light" and client.transcript.challenge.light
    assert len(b64url_decode(client.session_id)) == 16


def test_session_ids_and_keys_are_fresh_each_time(root: LocalSigner) -> None:
    signer = delegated(root)
    a, b = exchange(root, signer)[2], exchange(root, signer)[2]
    assert a.transcript.session_id != b.transcript.session_id
    assert a.keys != b.keys


def test_man_in_the_middle_key_is_refused(root: LocalSigner) -> None:
    key, nonce, body = new_client_hello()
    mitm = accept_exchange_at(body, delegated(LocalSigner()), now=NOW)
    with pytest.raises(IntegrityError) as info:
        finish_exchange_at(mitm.response, key, nonce, pinned(root), now=NOW)
    assert info.value.reason == "signature does not verify"


def test_expired_delegation_is_refused(root: LocalSigner) -> None:
    key, nonce, server = exchange(root, delegated(root, validity=600))
    with pytest.raises(IntegrityError) as info:
        finish_exchange_at(server.response, key, nonce, pinned(root), now=NOW + 600)
    assert info.value.reason == "delegation expired"


def test_tampered_transcript_is_refused(root: LocalSigner) -> None:
    key, nonce, server = exchange(root)
    raw = json.loads(b64url_decode(server.response["transcript"]))
    raw["expires_at"] += 3600
    forged = dict(server.response, transcript=b64url_encode(json.dumps(raw).encode()))
    with pytest.raises(IntegrityError):
        finish_exchange_at(forged, key, nonce, pinned(root), now=NOW)


def test_answer_for_another_client_is_refused(root: LocalSigner) -> None:
    _, _, server = exchange(root)
    key, nonce, _ = new_client_hello()
    with pytest.raises(IntegrityError) as info:
        finish_exchange_at(server.response, key, nonce, pinned(root), now=NOW)
    assert "echo" in info.value.reason


def test_expired_session_is_refused_by_client(root: LocalSigner) -> None:
    key, nonce, server = exchange(root)
    with pytest.raises(IntegrityError) as info:
        finish_exchange_at(server.response, key, nonce, pinned(root), now=NOW + 301)
    assert info.value.reason == "session already expired"


def test_delegation_is_reused_then_renewed(root: LocalSigner) -> None:
    signer = delegated(root, validity=3600)
    _, first = signer.credential_at(NOW)
    assert signer.credential_at(NOW + 60)[1] == first
    renewed = signer.credential_at(NOW + 3600 - 599)[1]
    assert renewed != first
    verify_delegation_at(renewed, pinned(root), now=NOW + 3600, usage="session")


def test_a_delegation_dated_in_the_future_beyond_the_skew_is_refused(root: LocalSigner) -> None:
    spki = root.public_key_der()
    for start, accepted in ((NOW + 300, True), (NOW + 301, False), (NOW + 30 * 86400, False)):
        token = issue_delegation(
            ec.generate_private_key(ec.SECP256R1()).public_key(), root.sign, spki,
            now=start, validity_s=3600,
        )  # fmt: skip
        if accepted:
            verify_delegation_at(token, pinned(root), now=NOW, usage="session")
            continue
        with pytest.raises(IntegrityError) as info:
            verify_delegation_at(token, pinned(root), now=NOW, usage="session")
        assert info.value.reason == "delegation not yet valid"


def test_overlong_delegation_is_refused(root: LocalSigner) -> None:
    signer = DelegatedSigner(root.sign, root.public_key_der, validity_s=10**6)
    _, token = signer.credential_at(NOW)  # capped to 24 h by the signer itself
    verify_delegation_at(token, pinned(root), now=NOW, usage="session")


@pytest.mark.parametrize(
    "patch",
    [
        {"version": 1},
        {"version": 3},
        {"liveness": "none"},
        {"liveness": "motion"},  # not allowed unless the operator enabled it
        {"client_public_key": "AAAA"},
        {"client_public_key": b64url_encode(b"\x04" + b"\x01" * 64)},  # not on the curve
        {"client_public_key": b64url_encode(b"\x02" + b"\x01" * 32)},  # compressed
        {"client_public_key": "!!!"},
        {"client_public_key": "A" * 5000},
        {"client_nonce": b64url_encode(b"short")},
        {"client_nonce": None},
    ],
)
def test_malformed_requests_are_bad_requests(root: LocalSigner, patch: dict[str, object]) -> None:
    _, _, body = new_client_hello()
    with pytest.raises(BadRequestError):
        accept_exchange_at(body | patch, delegated(root), now=NOW)
