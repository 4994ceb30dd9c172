"""The answer to ``POST /verify`` the browser opens under ``K_response`` (docs/PROTOCOL.md §5)::

    {"type": "secureface-verify-answer", "decision": "verified", "hint": "",
     "assurance": "light", "transaction_id": "…", "session_id": "…"}

Authentic because only the server and this browser hold ``K_response``; it tells the person the
outcome and is never proof to anyone else: the relying party redeems the signed result token
(:mod:`secureface.transactions.result`) server to server.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from secureface.errors import IntegrityError
from secureface.transactions.result import DECISIONS

ANSWER_TYPE = "secureface-verify-answer"
ASSURANCES = ("light", "motion")
#: Reasons a client may hear about, as a hint it can act on; every other liveness reason
#: (docs/LIVENESS.md) stays private to the server's log and the audit record.
CLIENT_HINTS = ("no_face", "multiple_faces", "too_dark", "too_far", "moves_not_followed")


def client_hint(reason: str) -> str:
    """The hint the client may see for ``reason`` (``""`` for a private reason or ``ok``)."""
    return reason if reason in CLIENT_HINTS else ""


@dataclass(frozen=True)
class VerifyAnswer:
    """The decision on one attempt, as the browser hears it."""

    decision: str
    hint: str
    assurance: str
    transaction_id: str
    session_id: str

    def to_json(self) -> dict[str, str]:
        return {"type": ANSWER_TYPE, **asdict(self)}

    @classmethod
    def parse(cls, data: bytes, *, session_id: str, transaction_id: str) -> VerifyAnswer:
        """The opened answer, checked to be about this attempt.

        Raises:
            IntegrityError: malformed, an unknown decision, hint or assurance, or another
                session or transaction.
        """
        try:
            raw: Any = json.loads(data)
            if raw.pop("type") != ANSWER_TYPE:
                raise ValueError("not a verify answer")
            answer = cls(**raw)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IntegrityError(reason="verify answer is malformed") from exc
        if (
            answer.decision not in DECISIONS
            or answer.hint not in ("", *CLIENT_HINTS)
            or answer.assurance not in ASSURANCES
        ):
            raise IntegrityError(reason="verify answer is malformed")
        if answer.session_id != session_id or answer.transaction_id != transaction_id:
            raise IntegrityError(reason="verify answer is about another attempt")
        return answer
