"""ECDSA P-256 helpers: DER ↔ raw ``r‖s`` signatures and SPKI public keys.

KMS returns DER signatures; WebCrypto and JOSE use raw ``r‖s`` (64 bytes for P-256). Converting
in one place keeps the two from drifting.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from secureface.errors import IntegrityError

_COORD = 32  # bytes per P-256 coordinate / scalar


def der_to_raw(der: bytes) -> bytes:
    """Convert a DER ECDSA P-256 signature to raw ``r‖s`` (64 bytes).

    Raises:
        IntegrityError: ``der`` is not a valid DER signature.
    """
    try:
        r, s = decode_dss_signature(der)
    except ValueError as exc:
        raise IntegrityError(reason="signature is not valid DER") from exc
    return r.to_bytes(_COORD, "big") + s.to_bytes(_COORD, "big")


def raw_to_der(raw: bytes) -> bytes:
    """Convert a raw ``r‖s`` P-256 signature to DER.

    Raises:
        IntegrityError: ``raw`` is not 64 bytes.
    """
    if len(raw) != 2 * _COORD:
        raise IntegrityError(reason="raw signature must be 64 bytes")
    return encode_dss_signature(
        int.from_bytes(raw[:_COORD], "big"), int.from_bytes(raw[_COORD:], "big")
    )


def load_public_key(spki_der: bytes) -> ec.EllipticCurvePublicKey:
    """Load a P-256 public key from DER SubjectPublicKeyInfo.

    Raises:
        IntegrityError: not a DER SPKI, or not a P-256 key.
    """
    try:
        key = serialization.load_der_public_key(spki_der)
    except ValueError as exc:
        raise IntegrityError(reason="public key is not DER SPKI") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise IntegrityError(reason="public key is not ECDSA P-256")
    return key


def spki_der(key: ec.EllipticCurvePublicKey) -> bytes:
    """DER SubjectPublicKeyInfo of ``key``."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_fingerprint(spki: bytes) -> str:
    """Hex SHA-256 of a DER SPKI: the key id used in ``kid`` headers and pins."""
    return hashlib.sha256(spki).hexdigest()


def verify_raw(key: ec.EllipticCurvePublicKey, message: bytes, raw_signature: bytes) -> None:
    """Verify an ES256 (ECDSA P-256, SHA-256) raw ``r‖s`` signature over ``message``.

    Raises:
        IntegrityError: the signature does not verify.
    """
    try:
        key.verify(raw_to_der(raw_signature), message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise IntegrityError(reason="signature does not verify") from exc
