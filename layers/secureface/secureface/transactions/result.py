"""The result token a relying party redeems: a JWT (RFC 7519) signed ES256 by the dedicated
results key in KMS, published as a JWKS (RFC 7517) with RFC 7638 thumbprints as ``kid``.

Header ``{"alg": "ES256", "typ": "secureface-result+jwt", "kid": …}`` (explicit typing, RFC 8725
§3.11, so no other JWT of ours can be passed off as a result). Claims::

    {"iss": "https://api.example", "sub": "alice", "aud": "demo-bank", "nonce": "…",
     "jti": "<transaction id>", "iat": 1764316800, "exp": 1764317400, "auth_time": 1764316800,
     "amr": ["face"], "decision": "verified", "assurance": "light", "hint": ""}

``amr`` is RFC 8176's ``face``. ``decision`` is ``verified``, ``not_verified`` or ``locked``;
``assurance`` the liveness challenge performed (``light``: light and motion; ``motion``: motion
only, where the operator allows it); ``hint`` what the person could do about a refusal. Any
JWT library verifies it through the JWKS; :func:`verify_result` is the package's own check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.ecdsa import load_public_key, verify_raw
from secureface.crypto.jws import MAX_JWS_LEN, sign_compact
from secureface.encoding import b64url_decode, b64url_encode, canonical_json
from secureface.errors import BadRequestError, IntegrityError, ResultRefused

RESULT_TYP = "secureface-result+jwt"
DECISIONS = ("verified", "not_verified", "locked")
AMR = ("face",)
#: Clock difference tolerated between SecureFace and a relying party, seconds.
LEEWAY_S = 60


@dataclass(frozen=True)
class Result:
    """A verified result token's claims."""

    issuer: str
    subject: str
    audience: str
    nonce: str
    transaction_id: str
    issued_at: int
    expires_at: int
    decision: str
    assurance: str
    hint: str = ""

    @property
    def verified(self) -> bool:
        return self.decision == "verified"

    def claims(self) -> dict[str, Any]:
        return {
            "iss": self.issuer, "sub": self.subject, "aud": self.audience, "nonce": self.nonce,
            "jti": self.transaction_id, "iat": self.issued_at, "exp": self.expires_at,
            "auth_time": self.issued_at, "amr": list(AMR), "decision": self.decision,
            "assurance": self.assurance, "hint": self.hint,
        }  # fmt: skip


def jwk(public_key_der: bytes) -> dict[str, str]:
    """The public JWK of a P-256 key, ``kid`` = its RFC 7638 thumbprint."""
    numbers = load_public_key(public_key_der).public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
    }
    thumbprint = hashlib.sha256(canonical_json(members)).digest()
    return {**members, "kid": b64url_encode(thumbprint), "use": "sig", "alg": "ES256"}


def jwks(public_keys_der: Iterable[bytes]) -> dict[str, list[dict[str, str]]]:
    """The JWKS document: the signing key first, then keys still published after a rotation."""
    return {"keys": [jwk(der) for der in public_keys_der]}


class ResultSigner:
    """Signs results with a key whose private half stays in KMS (``sign`` returns DER)."""

    def __init__(self, sign: Callable[[bytes], bytes], public_key_der: Callable[[], bytes]):
        self._sign = sign
        self._public_key_der = public_key_der

    def sign(self, result: Result) -> str:
        header = {"typ": RESULT_TYP, "kid": jwk(self._public_key_der())["kid"]}
        return sign_compact(header, canonical_json(result.claims()), self._sign)


def verify_result(
    token: str,
    *,
    keys: Mapping[str, Any],
    issuer: str,
    audience: str,
    nonce: str,
    subject: str,
    now: int,
    accept: tuple[str, ...] = ("verified",),
) -> Result:
    """Check a result token as a relying party must, and return its claims.

    Args:
        keys: the JWKS document (``{"keys": [...]}``) from ``<issuer>/.well-known/jwks.json``.
        issuer, audience, nonce, subject: what this login expects: SecureFace's issuer, the
            relying party's own client id, the nonce it put in the transaction, the person it
            started the transaction for.
        accept: decisions to return; any other raises :class:`ResultRefused` (by default a
            token that does not say ``verified`` never passes as success).

    Raises:
        IntegrityError: malformed, unknown ``kid``, wrong ``alg``/``typ``, bad signature,
            expired, not yet valid, or another issuer, audience, nonce or subject.
        ResultRefused: a genuine token whose decision is not in ``accept``.
    """
    header, claims = _verified_parts(token, keys)
    if header.get("typ") != RESULT_TYP:
        raise IntegrityError(reason=f"result typ is not {RESULT_TYP}")
    result = _claims(claims)
    if result.issuer != issuer:
        raise IntegrityError(reason="result from another issuer")
    if result.audience != audience:
        raise IntegrityError(reason="result for another audience")
    if result.nonce != nonce:
        raise IntegrityError(reason="result for another nonce")
    if result.subject != subject:
        raise IntegrityError(reason="result for another subject")
    if now >= result.expires_at + LEEWAY_S:
        raise IntegrityError(reason="result expired")
    if result.issued_at > now + LEEWAY_S:
        raise IntegrityError(reason="result issued in the future")
    if result.decision not in accept:
        raise ResultRefused(reason=f"decision {result.decision}")
    return result


def _verified_parts(token: str, keys: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(token, str) or len(token) > MAX_JWS_LEN or token.count(".") != 2:
        raise IntegrityError(reason="result is not a compact JWS")
    protected, payload, signature = token.split(".")
    try:
        header = json.loads(b64url_decode(protected, field="header"))
        claims = json.loads(b64url_decode(payload, field="payload"))
        raw_signature = b64url_decode(signature, field="signature")
    except (BadRequestError, ValueError) as exc:
        raise IntegrityError(reason="result part is not base64url JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise IntegrityError(reason="result header or claims are not objects")
    if header.get("alg") != "ES256":  # never chosen from the token: ES256 is the only one
        raise IntegrityError(reason="result alg is not ES256")
    key = _key(keys, header.get("kid"))
    verify_raw(key, f"{protected}.{payload}".encode("ascii"), raw_signature)
    return header, claims


def _key(keys: Mapping[str, Any], kid: Any) -> ec.EllipticCurvePublicKey:
    try:
        entry = next(k for k in keys["keys"] if isinstance(kid, str) and k.get("kid") == kid)
        if entry.get("kty") != "EC" or entry.get("crv") != "P-256":
            raise ValueError("not a P-256 key")
        x, y = (int.from_bytes(b64url_decode(entry[c], max_len=64), "big") for c in "xy")
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except StopIteration as exc:
        raise IntegrityError(reason="result kid is not in the JWKS") from exc
    except (KeyError, TypeError, ValueError, AttributeError, BadRequestError) as exc:
        raise IntegrityError(reason="JWKS entry is malformed") from exc


def _claims(raw: dict[str, Any]) -> Result:
    try:
        amr = raw["amr"]
        result = Result(
            issuer=_text(raw["iss"]), subject=_text(raw["sub"]), audience=_text(raw["aud"]),
            nonce=_text(raw["nonce"]), transaction_id=_text(raw["jti"]),
            issued_at=_int(raw["iat"]), expires_at=_int(raw["exp"]),
            decision=_text(raw["decision"]), assurance=_text(raw["assurance"]),
            hint=_text(raw.get("hint", "")),
        )  # fmt: skip
    except (KeyError, TypeError) as exc:
        raise IntegrityError(reason="result claims are malformed") from exc
    if result.decision not in DECISIONS or not isinstance(amr, list) or "face" not in amr:
        raise IntegrityError(reason="result claims are malformed")
    return result


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return int(value)
