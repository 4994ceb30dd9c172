"""Compact JWS (RFC 7515) with ES256 only: the container of the signed model manifest.

Why JWS: a standard, tiny, well-reviewed envelope that WebCrypto verifies directly (ES256 is raw
``r‖s``) and that operators can inspect with common tools. We accept exactly one algorithm and
never read the algorithm from an untrusted header to choose a verifier.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.ecdsa import der_to_raw, verify_raw
from secureface.encoding import b64url_decode, b64url_encode, canonical_json
from secureface.errors import BadRequestError, IntegrityError

MAX_JWS_LEN = 1 << 20


@dataclass(frozen=True)
class VerifiedJws:
    """A JWS whose signature verified: its protected header and exact payload bytes."""

    header: dict[str, Any]
    payload: bytes


def sign_compact(header: dict[str, Any], payload: bytes, sign_der: Callable[[bytes], bytes]) -> str:
    """Produce a compact JWS; ``sign_der`` returns a DER ECDSA P-256/SHA-256 signature.

    ``header["alg"]`` is forced to ``ES256``.
    """
    protected = b64url_encode(canonical_json({**header, "alg": "ES256"}))
    signing_input = f"{protected}.{b64url_encode(payload)}".encode("ascii")
    signature = der_to_raw(sign_der(signing_input))
    return f"{signing_input.decode('ascii')}.{b64url_encode(signature)}"


def verify_compact(token: str, key: ec.EllipticCurvePublicKey, *, typ: str) -> VerifiedJws:
    """Verify a compact ES256 JWS against ``key`` and check its ``typ`` header.

    Raises:
        IntegrityError: malformed token, wrong ``alg``/``typ``, or a bad signature.
    """
    if not isinstance(token, str) or len(token) > MAX_JWS_LEN or token.count(".") != 2:
        raise IntegrityError(reason="JWS is not three dot-separated parts")
    protected, payload_b64, signature_b64 = token.split(".")
    try:
        header = json.loads(b64url_decode(protected, field="JWS header"))
        payload = b64url_decode(payload_b64, field="JWS payload")
        signature = b64url_decode(signature_b64, field="JWS signature")
    except (BadRequestError, ValueError) as exc:
        raise IntegrityError(reason="JWS part is not valid base64url/JSON") from exc
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        raise IntegrityError(reason="JWS alg is not ES256")
    if header.get("typ") != typ:
        raise IntegrityError(reason=f"JWS typ is not {typ}")
    verify_raw(key, f"{protected}.{payload_b64}".encode("ascii"), signature)
    return VerifiedJws(header=header, payload=payload)
