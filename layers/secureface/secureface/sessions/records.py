"""Session records: what is stored per session, and the store port.

The session keys are stored only envelope-encrypted (bound to the session id); the store keeps
the record until ``expires_at`` (a TTL index deletes it after that) and marks it used when the
single-use verify step consumes it. Every session belongs to a relying party's transaction;
its ``purpose`` is ``models`` (model download only) or ``verify`` (the transaction's one
attempt).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from secureface.crypto.envelope import Sealed
from secureface.sessions.challenge import Challenge


@dataclass(frozen=True)
class SessionRecord:
    """A stored session."""

    session_id: str
    issued_at: int
    expires_at: int
    challenge: Challenge
    transcript_hash: bytes
    sealed_keys: Sealed
    transaction_id: str = ""
    purpose: str = "verify"
    used: bool = False


class SessionStore(Protocol):
    """Persistence for session records (MongoDB in production)."""

    def insert(self, record: SessionRecord) -> None:
        """Store a new record (session ids are unique)."""

    def get(self, session_id: str) -> SessionRecord | None:
        """The record, if present."""

    def consume_at(self, session_id: str, now: int) -> SessionRecord | None:
        """Atomically mark an unused, unexpired ``verify`` record used; ``None`` if none
        qualifies."""


def session_aad(session_id: str) -> bytes:
    """Associated data binding sealed session keys to their session."""
    return b"secureface/v1/session-keys\x00" + session_id.encode()
