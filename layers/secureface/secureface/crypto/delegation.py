"""Delegated credentials: a per-instance signing key vouched for by the KMS key.

As in TLS delegated credentials (RFC 9345): each function instance creates an ephemeral ECDSA
P-256 key when it first needs one, and has KMS sign a short-lived *delegation* for its public
key. Transcripts are then signed locally with the delegated key, so a key exchange costs no KMS
call. Clients pin the KMS public key, verify the delegation with it (signature, validity window
no longer than :data:`MAX_VALIDITY_S`, usage), then verify the transcript with the delegated key.

The delegation is a compact JWS (ES256, ``typ`` = :data:`DELEGATION_TYP`) over::

    {"type": "secureface-delegation", "public_key": "<b64url DER SPKI>",
     "not_before": 1764316800, "expires_at": 1764320400, "usage": ["session"]}
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.ecdsa import der_to_raw, key_fingerprint, load_public_key, spki_der
from secureface.crypto.jws import sign_compact, verify_compact
from secureface.encoding import b64url_decode, b64url_encode, canonical_json
from secureface.errors import BadRequestError, IntegrityError

DELEGATION_TYP = "secureface-delegation+jws"
DELEGATION_TYPE = "secureface-delegation"
DEFAULT_VALIDITY_S = 3600
MAX_VALIDITY_S = 24 * 3600
REFRESH_MARGIN_S = 600
CLOCK_SKEW_S = 300
USAGES = ("session",)


@dataclass(frozen=True)
class Delegation:
    """A verified delegation: the delegated public key and its validity."""

    public_key: ec.EllipticCurvePublicKey
    not_before: int
    expires_at: int
    usage: tuple[str, ...]


def verify_delegation_at(
    token: str, root: ec.EllipticCurvePublicKey, *, now: int, usage: str
) -> Delegation:
    """Verify a delegation against the pinned ``root`` key at time ``now`` for ``usage``.

    Raises:
        IntegrityError: bad signature, malformed, expired, not yet valid, valid for longer than
            :data:`MAX_VALIDITY_S`, or not delegated for ``usage``.
    """
    payload = verify_compact(token, root, typ=DELEGATION_TYP).payload
    try:
        raw = json.loads(payload)
        if raw.get("type") != DELEGATION_TYPE:
            raise ValueError("not a delegation")
        key = load_public_key(b64url_decode(raw["public_key"], field="public_key"))
        nbf, exp, uses = int(raw["not_before"]), int(raw["expires_at"]), tuple(raw["usage"])
    except (ValueError, KeyError, TypeError, AttributeError, BadRequestError) as exc:
        raise IntegrityError(reason="malformed delegation") from exc
    if exp - nbf > MAX_VALIDITY_S:
        raise IntegrityError(reason="delegation validity is too long")
    if now >= exp:
        raise IntegrityError(reason="delegation expired")
    if nbf > now + CLOCK_SKEW_S:
        raise IntegrityError(reason="delegation not yet valid")
    if usage not in uses:
        raise IntegrityError(reason=f"delegation not valid for {usage}")
    return Delegation(public_key=key, not_before=nbf, expires_at=exp, usage=uses)


def issue_delegation(
    delegated: ec.EllipticCurvePublicKey,
    root_sign: Callable[[bytes], bytes],
    root_spki: bytes,
    *,
    now: int,
    validity_s: int,
) -> str:
    """A delegation token for ``delegated``, signed by the root key, valid from ``now``."""
    payload = {
        "type": DELEGATION_TYPE,
        "public_key": b64url_encode(spki_der(delegated)),
        "not_before": now,
        "expires_at": now + validity_s,
        "usage": list(USAGES),
    }
    header = {"typ": DELEGATION_TYP, "kid": key_fingerprint(root_spki)}
    return sign_compact(header, canonical_json(payload), root_sign)


class DelegatedSigner:
    """The instance's delegated key; creates and renews itself on first use, never at import.

    ``root_sign`` signs with the long-term key (KMS); ``root_public_key`` is its DER SPKI.
    """

    def __init__(
        self,
        root_sign: Callable[[bytes], bytes],
        root_public_key: Callable[[], bytes],
        validity_s: int = DEFAULT_VALIDITY_S,
    ) -> None:
        self._root_sign = root_sign
        self._root_public_key = root_public_key
        self._validity_s = min(validity_s, MAX_VALIDITY_S)
        self._lock = threading.Lock()
        self._key: ec.EllipticCurvePrivateKey | None = None
        self._token = ""
        self._expires_at = 0

    def credential_at(self, now: int) -> tuple[ec.EllipticCurvePrivateKey, str]:
        """The current private key and delegation token, renewed when close to expiry."""
        with self._lock:
            if self._key is None or now >= self._expires_at - REFRESH_MARGIN_S:
                key = ec.generate_private_key(ec.SECP256R1())
                self._token = issue_delegation(
                    key.public_key(),
                    self._root_sign,
                    self._root_public_key(),
                    now=now,
                    validity_s=self._validity_s,
                )
                self._key, self._expires_at = key, now + self._validity_s
            return self._key, self._token


def sign_with_context(key: ec.EllipticCurvePrivateKey, context: bytes, message: bytes) -> bytes:
    """Raw ``r‖s`` ES256 signature over ``context ‖ 0x00 ‖ message``.

    The context string separates uses of the delegated key.
    """
    return der_to_raw(key.sign(context + b"\x00" + message, ec.ECDSA(hashes.SHA256())))
