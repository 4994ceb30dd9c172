"""The signed verification assertion a relying party checks.

A compact JWS (ES256, ``typ`` = :data:`ASSERTION_TYP`) signed by the instance's delegated key
(usage ``assertion``), returned with the delegation so that anyone holding the pinned server key
can verify it offline::

    {"type": "secureface-assertion", "subject_id": "alice", "decision": "verified",
     "hint": "", "assurance": "light", "session_id": "…", "issued_at": 1764316800,
     "expires_at": 1764317100}

Decisions: ``verified``, ``not_verified``, ``locked``. ``hint`` is empty or one of
:data:`~secureface.verify.liveness.CLIENT_HINTS` (what the person can do about a refusal: no
face, several faces, too dark, too far, moves not followed); which liveness signal refused is
never said. ``assurance`` is the challenge performed: ``light`` (light and motion) or
``motion`` (motion only, a lower level an operator may allow). No score is ever included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.delegation import DelegatedSigner, verify_delegation_at
from secureface.crypto.jws import sign_compact, verify_compact
from secureface.encoding import canonical_json
from secureface.errors import IntegrityError

ASSERTION_TYP = "secureface-assertion+jws"
ASSERTION_TYPE = "secureface-assertion"
ASSERTION_TTL_S = 300
DECISIONS = ("verified", "not_verified", "locked")


@dataclass(frozen=True)
class Assertion:
    """A decision about one verify attempt."""

    subject_id: str
    decision: str
    hint: str
    assurance: str
    session_id: str
    issued_at: int
    expires_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "type": ASSERTION_TYPE,
            "subject_id": self.subject_id,
            "decision": self.decision,
            "hint": self.hint,
            "assurance": self.assurance,
            "session_id": self.session_id,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
        }


def sign_assertion_at(assertion: Assertion, signer: DelegatedSigner, *, now: int) -> dict[str, str]:
    """``{"assertion": <JWS>, "delegation": <JWS>}``.

    A standard JWS: its signing input starts with the base64url protected header (``eyJ…``)
    naming the assertion ``typ``, so it can never equal a transcript's signing input, which
    starts with the ``secureface/v1/session-transcript`` context string.
    """
    key, delegation = signer.credential_at(now)

    def sign_der(message: bytes) -> bytes:
        return key.sign(message, ec.ECDSA(hashes.SHA256()))

    token = sign_compact({"typ": ASSERTION_TYP}, canonical_json(assertion.to_json()), sign_der)
    return {"assertion": token, "delegation": delegation}


def verify_assertion_at(
    bundle: dict[str, Any], pinned: ec.EllipticCurvePublicKey, *, now: int
) -> Assertion:
    """Verify an assertion bundle against the pinned server key (what a relying party does).

    Raises:
        IntegrityError: bad delegation or signature, malformed, or expired.
    """
    try:
        token, delegation_token = str(bundle["assertion"]), str(bundle["delegation"])
    except (KeyError, TypeError) as exc:
        raise IntegrityError(reason="malformed assertion bundle") from exc
    delegation = verify_delegation_at(delegation_token, pinned, now=now, usage="assertion")
    payload = verify_compact(token, delegation.public_key, typ=ASSERTION_TYP).payload
    try:
        raw = json.loads(payload)
        if raw.pop("type") != ASSERTION_TYPE or raw.get("decision") not in DECISIONS:
            raise ValueError("not an assertion")
        assertion = Assertion(**raw)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntegrityError(reason="malformed assertion") from exc
    if now >= assertion.expires_at:
        raise IntegrityError(reason="assertion expired")
    return assertion
