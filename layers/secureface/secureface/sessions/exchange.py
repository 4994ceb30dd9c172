"""The key exchange (protocol version 2): messages, transcript and key schedule, both sides.

Client → server (``POST /session``)::

    {"version": 2, "client_public_key": b64url(65-byte uncompressed P-256 point),
     "client_nonce": b64url(32 bytes), "liveness": "light" | "motion" (optional)}

``liveness: "motion"`` asks for the motion-only challenge (no flashing colours, a lower assurance
level stated in the result); the server grants it only where the operator allowed it.

Server → client::

    {"transcript": b64url(canonical JSON), "signature": b64url(raw r‖s),
     "delegation": <compact JWS signed by the pinned KMS key>}

The transcript names the protocol version, a random 128-bit session id, both ephemeral public
keys, both nonces, issue and expiry times, the liveness challenge
(:class:`~secureface.sessions.challenge.Challenge`, as an object) and the SHA-256 of the
delegation. The delegated key signs ``"secureface/v1/session-transcript" ‖ 0x00 ‖ transcript``.

Key schedule: ``Z`` = ECDH(server ephemeral, client ephemeral); for each purpose ``p`` in
``model`` (server→client model streams), ``request`` (client→server verify payload) and
``response`` (server→client answers)::

    K_p = HKDF-SHA256(ikm=Z, salt=client_nonce ‖ server_nonce,
                      info="secureface/v1 key " ‖ p ‖ 0x00 ‖ SHA-256(transcript), L=32)
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.delegation import (
    DelegatedSigner,
    sign_with_context,
    verify_delegation_at,
)
from secureface.crypto.ecdsa import verify_raw
from secureface.crypto.kdf import hkdf_sha256
from secureface.encoding import b64url_decode, b64url_encode, canonical_json
from secureface.errors import BadRequestError, IntegrityError
from secureface.sessions.challenge import MODE_LIGHT, MODE_MOTION, MODES, Challenge, new_challenge

VERSION = 2
TRANSCRIPT_TYPE = "secureface-session"
TRANSCRIPT_CONTEXT = b"secureface/v1/session-transcript"
NONCE_LEN = 32
SESSION_ID_LEN = 16
POINT_LEN = 65
DEFAULT_SESSION_TTL_S = 300
PURPOSES = ("model", "request", "response")


@dataclass(frozen=True)
class SessionKeys:
    """The three 256-bit session keys, one per direction and purpose."""

    model: bytes
    request: bytes
    response: bytes

    def packed(self) -> bytes:
        return self.model + self.request + self.response

    @classmethod
    def unpack(cls, data: bytes) -> SessionKeys:
        if len(data) != 96:
            raise IntegrityError(reason="session keys have the wrong length")
        return cls(model=data[:32], request=data[32:64], response=data[64:])


@dataclass(frozen=True)
class Transcript:
    """The signed description of a session."""

    session_id: str
    client_public_key: bytes
    client_nonce: bytes
    server_public_key: bytes
    server_nonce: bytes
    issued_at: int
    expires_at: int
    challenge: Challenge
    delegation_sha256: str

    def encode(self) -> bytes:
        return canonical_json(
            {
                "type": TRANSCRIPT_TYPE,
                "version": VERSION,
                "session_id": self.session_id,
                "client_public_key": b64url_encode(self.client_public_key),
                "client_nonce": b64url_encode(self.client_nonce),
                "server_public_key": b64url_encode(self.server_public_key),
                "server_nonce": b64url_encode(self.server_nonce),
                "issued_at": self.issued_at,
                "expires_at": self.expires_at,
                "challenge": self.challenge.to_json(),
                "delegation_sha256": self.delegation_sha256,
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> Transcript:
        """Raises IntegrityError when ``data`` is not a well-formed transcript of this version."""
        try:
            raw = json.loads(data)
            if raw["type"] != TRANSCRIPT_TYPE or raw["version"] != VERSION:
                raise ValueError(f"not a v{VERSION} transcript")
            return cls(
                session_id=str(raw["session_id"]),
                client_public_key=b64url_decode(raw["client_public_key"]),
                client_nonce=b64url_decode(raw["client_nonce"]),
                server_public_key=b64url_decode(raw["server_public_key"]),
                server_nonce=b64url_decode(raw["server_nonce"]),
                issued_at=int(raw["issued_at"]),
                expires_at=int(raw["expires_at"]),
                challenge=Challenge.from_json(raw["challenge"]),
                delegation_sha256=str(raw["delegation_sha256"]),
            )
        except (ValueError, KeyError, TypeError, BadRequestError) as exc:
            raise IntegrityError(reason="malformed transcript") from exc


@dataclass(frozen=True)
class ServerSession:
    """What the server keeps of an accepted exchange (keys to be stored wrapped)."""

    transcript: Transcript
    transcript_hash: bytes
    keys: SessionKeys
    response: dict[str, str]


def parse_point(data: bytes) -> ec.EllipticCurvePublicKey:
    """Load an uncompressed P-256 point, refusing anything else.

    Raises:
        BadRequestError: wrong length or format, or the point is not on the curve.
    """
    if len(data) != POINT_LEN or data[0] != 4:
        raise BadRequestError("client_public_key must be a 65-byte uncompressed P-256 point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)
    except ValueError as exc:
        raise BadRequestError("client_public_key is not a point on P-256") from exc


def encode_point(key: ec.EllipticCurvePublicKey) -> bytes:
    """Uncompressed SEC1 encoding (as WebCrypto's ``raw`` export)."""
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def derive_session_keys(
    shared: bytes, client_nonce: bytes, server_nonce: bytes, transcript_hash: bytes
) -> SessionKeys:
    """The key schedule (see the module docstring)."""
    salt = client_nonce + server_nonce
    keys = [
        hkdf_sha256(
            shared, salt=salt, info=b"secureface/v1 key " + p.encode() + b"\x00" + transcript_hash
        )
        for p in PURPOSES
    ]
    return SessionKeys(*keys)


def parse_request(body: dict[str, Any]) -> tuple[ec.EllipticCurvePublicKey, bytes, str]:
    """Validate a ``POST /session`` body: the client's key, nonce and liveness mode.

    Raises:
        BadRequestError: unsupported version, missing or malformed key, nonce or mode.
    """
    if body.get("version") != VERSION:
        raise BadRequestError(f"version must be {VERSION}")
    client_key = parse_point(
        b64url_decode(body.get("client_public_key", ""), field="client_public_key", max_len=128)
    )
    nonce = b64url_decode(body.get("client_nonce", ""), field="client_nonce", max_len=64)
    if len(nonce) != NONCE_LEN:
        raise BadRequestError(f"client_nonce must be {NONCE_LEN} bytes")
    mode = body.get("liveness", MODE_LIGHT)
    if mode not in MODES:
        raise BadRequestError(f"liveness must be one of {', '.join(MODES)}")
    return client_key, nonce, str(mode)


def accept_exchange_at(
    body: dict[str, Any],
    signer: DelegatedSigner,
    *,
    now: int,
    ttl_s: int = DEFAULT_SESSION_TTL_S,
    allow_motion_only: bool = False,
) -> ServerSession:
    """Server side: validate the request, run ECDH, sign the transcript, derive the keys.

    Raises:
        BadRequestError: the request is malformed (see :func:`parse_request`), or asks for the
            motion-only challenge where the operator did not allow it.
    """
    client_key, client_nonce, mode = parse_request(body)
    if mode == MODE_MOTION and not allow_motion_only:
        raise BadRequestError("The motion-only liveness check is not enabled here")
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    delegated_key, delegation = signer.credential_at(now)
    transcript = Transcript(
        session_id=b64url_encode(secrets.token_bytes(SESSION_ID_LEN)),
        client_public_key=encode_point(client_key),
        client_nonce=client_nonce,
        server_public_key=encode_point(ephemeral.public_key()),
        server_nonce=secrets.token_bytes(NONCE_LEN),
        issued_at=now,
        expires_at=now + ttl_s,
        challenge=new_challenge(mode),
        delegation_sha256=hashlib.sha256(delegation.encode()).hexdigest(),
    )
    encoded = transcript.encode()
    signature = sign_with_context(delegated_key, TRANSCRIPT_CONTEXT, encoded)
    shared = ephemeral.exchange(ec.ECDH(), client_key)
    th = hashlib.sha256(encoded).digest()
    keys = derive_session_keys(shared, client_nonce, transcript.server_nonce, th)
    response = {
        "transcript": b64url_encode(encoded),
        "signature": b64url_encode(signature),
        "delegation": delegation,
    }
    return ServerSession(transcript=transcript, transcript_hash=th, keys=keys, response=response)


@dataclass(frozen=True)
class ClientSession:
    """The client's view of an established session."""

    transcript: Transcript
    keys: SessionKeys

    @property
    def session_id(self) -> str:
        return self.transcript.session_id


def new_client_hello(
    liveness: str = MODE_LIGHT,
) -> tuple[ec.EllipticCurvePrivateKey, bytes, dict[str, Any]]:
    """Client side: an ephemeral key, a nonce, and the request body."""
    key = ec.generate_private_key(ec.SECP256R1())
    nonce = secrets.token_bytes(NONCE_LEN)
    body = {
        "version": VERSION,
        "client_public_key": b64url_encode(encode_point(key.public_key())),
        "client_nonce": b64url_encode(nonce),
    }
    if liveness != MODE_LIGHT:
        body["liveness"] = liveness
    return key, nonce, body


def finish_exchange_at(
    response: dict[str, Any],
    key: ec.EllipticCurvePrivateKey,
    nonce: bytes,
    pinned: ec.EllipticCurvePublicKey,
    *,
    now: int,
) -> ClientSession:
    """Client side: authenticate the server's answer and derive the session keys.

    Raises:
        IntegrityError: the delegation does not chain to ``pinned`` or is expired, the transcript
            signature is bad, the transcript does not echo our key and nonce, names another
            delegation, or the session is already expired.
    """
    try:
        transcript_bytes = b64url_decode(response["transcript"])
        signature = b64url_decode(response["signature"])
        delegation_token = str(response["delegation"])
    except (KeyError, TypeError, BadRequestError) as exc:
        raise IntegrityError(reason="malformed key-exchange response") from exc
    delegation = verify_delegation_at(delegation_token, pinned, now=now, usage="session")
    verify_raw(delegation.public_key, TRANSCRIPT_CONTEXT + b"\x00" + transcript_bytes, signature)
    transcript = Transcript.decode(transcript_bytes)
    if (
        transcript.client_public_key != encode_point(key.public_key())
        or transcript.client_nonce != nonce
    ):
        raise IntegrityError(reason="transcript does not echo this client's key and nonce")
    if transcript.delegation_sha256 != hashlib.sha256(delegation_token.encode()).hexdigest():
        raise IntegrityError(reason="transcript names another delegation")
    if now >= transcript.expires_at:
        raise IntegrityError(reason="session already expired")
    shared = key.exchange(ec.ECDH(), parse_point(transcript.server_public_key))
    th = hashlib.sha256(transcript_bytes).digest()
    return ClientSession(
        transcript=transcript, keys=derive_session_keys(shared, nonce, transcript.server_nonce, th)
    )
