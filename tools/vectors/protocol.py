"""``tests/vectors/protocol.json``: known-answer vectors for every wire format.

Deterministic (fixed keys, RFC 6979 signatures), so re-running reproduces the file byte for
byte; pytest checks the Python side against it and ``frontend/test`` the JavaScript side, so
raw-vs-SPKI keys, DER-vs-raw signatures and base64-vs-base64url cannot drift between the two.
Written by ``python -m vectors`` (:mod:`vectors`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secureface.crypto.delegation import issue_delegation
from secureface.crypto.ecdsa import der_to_raw, spki_der
from secureface.crypto.stream import MIN_SEGMENT_SIZE, StreamSealer
from secureface.encoding import b64url_encode
from secureface.models.manifest import ModelEntry, build_manifest, sign_manifest
from secureface.models.segments import stream_id
from secureface.sessions.challenge import Challenge
from secureface.sessions.exchange import (
    TRANSCRIPT_CONTEXT,
    Transcript,
    derive_session_keys,
    encode_point,
)
from secureface.sessions.sealed import REQUEST_LABEL, RESPONSE_LABEL
from secureface.transactions.model import RESULT_TTL_S
from secureface.transactions.result import Result, ResultSigner, jwks

#: A fixed challenge (as the server draws them: center, three moves, a light schedule).
CHALLENGE = Challenge(
    mode="light",
    moves=("center", "left", "up", "right"),
    move_ms=1500,
    light=(("red", 500), ("cyan", 650), ("blue", 400), ("yellow", 700), ("green", 550),
           ("magenta", 350), ("red", 600), ("blue", 450), ("green", 700), ("yellow", 500),
           ("cyan", 600)),
)  # fmt: skip
NOW = 1_764_316_800


def key(scalar: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(scalar, ec.SECP256R1())


def det_sign(private: ec.EllipticCurvePrivateKey) -> Callable[[bytes], bytes]:
    """RFC 6979 deterministic ECDSA (DER), so the vectors reproduce byte for byte."""
    return lambda message: private.sign(
        message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    )


def jwk_private(private: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = private.private_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.public_numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.public_numbers.y.to_bytes(32, "big")),
        "d": b64url_encode(numbers.private_value.to_bytes(32, "big")),
    }


def manifest_vector(root: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    entry = ModelEntry("yunet", "2023mar", "detector", hashlib.sha256(b"model").hexdigest(), 5)
    manifest = build_manifest(7, [entry], now=NOW, ttl_s=86400)
    token = sign_manifest(
        manifest, det_sign(root), kid=hashlib.sha256(spki_der(root.public_key())).hexdigest()
    )
    return {
        "token": token,
        "now": NOW + 60,
        "manifest_version": 7,
        "expires_at": NOW + 86400,
        "models": [entry.to_json()],
    }


def sealed_vector(key: bytes, label: bytes, session_id: str, nonce: bytes) -> dict[str, str]:
    """A known answer of a session key that the browser holds non-extractable (it cannot compare
    bytes): a message sealed under it as PROTOCOL.md §5 seals (AAD: label ‖ 0x00 ‖ session id)."""
    plaintext = b"secureface/v1 known answer: " + label
    aad = label + b"\x00" + session_id.encode()
    return {
        "plaintext": b64url_encode(plaintext),
        "nonce": b64url_encode(nonce),
        "ciphertext": b64url_encode(AESGCM(key).encrypt(nonce, plaintext, aad)),
    }


def exchange_vector(root: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    delegated, client, server = key(0xD1E6A7ED), key(0xC11E47), key(0x5E4FE4)
    root_spki = spki_der(root.public_key())
    delegation = issue_delegation(
        delegated.public_key(), det_sign(root), root_spki, now=NOW, validity_s=3600
    )
    client_nonce, server_nonce = bytes(range(32)), bytes(range(32, 64))
    transcript = Transcript(
        session_id=b64url_encode(bytes(range(100, 116))),
        client_public_key=encode_point(client.public_key()),
        client_nonce=client_nonce,
        server_public_key=encode_point(server.public_key()),
        server_nonce=server_nonce,
        issued_at=NOW,
        expires_at=NOW + 300,
        challenge=CHALLENGE,
        delegation_sha256=hashlib.sha256(delegation.encode()).hexdigest(),
    ).encode()
    signature = der_to_raw(det_sign(delegated)(TRANSCRIPT_CONTEXT + b"\x00" + transcript))
    shared = server.exchange(ec.ECDH(), client.public_key())
    th = hashlib.sha256(transcript).digest()
    keys = derive_session_keys(shared, client_nonce, server_nonce, th)
    session_id = b64url_encode(bytes(range(100, 116)))
    return {
        "now": NOW + 10,
        "client_private_jwk": jwk_private(client),
        "client_public_key": b64url_encode(encode_point(client.public_key())),
        "client_nonce": b64url_encode(client_nonce),
        "response": {
            "transcript": b64url_encode(transcript),
            "signature": b64url_encode(signature),
            "delegation": delegation,
        },
        "expected": {
            "session_id": b64url_encode(bytes(range(100, 116))),
            "shared_secret": shared.hex(),
            "transcript_sha256": th.hex(),
            "delegated_spki": b64url_encode(spki_der(delegated.public_key())),
            "model_key": keys.model.hex(),
            "request_key": keys.request.hex(),
            "response_key": keys.response.hex(),
            # K_model's known answer is the stream vector (sealed under it, for this session)
            "request_sealed": sealed_vector(
                keys.request, REQUEST_LABEL, session_id, bytes(range(12))
            ),
            "response_sealed": sealed_vector(
                keys.response, RESPONSE_LABEL, session_id, bytes(range(12, 24))
            ),
        },
    }


def stream_vector(model_key: bytes, session_id: str) -> dict[str, Any]:
    plaintext = bytes((i * 7 + 3) % 256 for i in range(2 * MIN_SEGMENT_SIZE + 100))
    entry = ModelEntry(
        "yunet", "2023mar", "detector", hashlib.sha256(plaintext).hexdigest(), len(plaintext)
    )
    sealer = StreamSealer(model_key, stream_id(session_id, entry), plaintext, MIN_SEGMENT_SIZE)
    segments = [sealer.seal(i) for i in range(sealer.header.segment_count)]
    return {
        "model_key": model_key.hex(),
        "session_id": session_id,
        "entry": entry.to_json(),
        "stream_id": stream_id(session_id, entry).hex(),
        "plaintext_formula": "byte i = (7*i + 3) mod 256",
        "segment_size": MIN_SEGMENT_SIZE,
        "header": sealer.header_bytes.hex(),
        "segments": [b64url_encode(s) for s in segments],
        "segment_sha256": [hashlib.sha256(s).hexdigest() for s in segments],
    }


def result_vector() -> dict[str, Any]:
    """A result token (docs/PROTOCOL.md §7) signed by a fixed key, with its JWKS."""
    results_key = key(0x2E5017)
    der = spki_der(results_key.public_key())
    claims = Result(
        issuer="https://api.secureface.example", subject="alice", audience="demo-bank",
        nonce="n-0123456789abcdef", transaction_id=b64url_encode(bytes(range(16))),
        issued_at=NOW, expires_at=NOW + RESULT_TTL_S, decision="verified", assurance="light",
    )  # fmt: skip
    return {
        "now": NOW + 10,
        "jwks": jwks([der]),
        "token": ResultSigner(det_sign(results_key), lambda: der).sign(claims),
        "expected": {
            "issuer": claims.issuer, "audience": claims.audience, "nonce": claims.nonce,
            "subject": claims.subject, "claims": claims.claims(),
        },
    }  # fmt: skip


def build() -> dict[str, Any]:
    root = key(0x5EC0FACE)
    exchange = exchange_vector(root)
    return {
        "description": "SecureFace protocol v2 vectors (python -m vectors, docs/PROTOCOL.md)",
        "root_spki": b64url_encode(spki_der(root.public_key())),
        "manifest": manifest_vector(root),
        "exchange": exchange,
        "stream": stream_vector(
            bytes.fromhex(exchange["expected"]["model_key"]), exchange["expected"]["session_id"]
        ),
        "result_token": result_vector(),
    }
