"""Session use cases: open a session (key exchange), load an active one, consume one."""

from __future__ import annotations

import logging
from typing import Any

from secureface.crypto.delegation import DelegatedSigner
from secureface.crypto.envelope import EnvelopeCipher
from secureface.encoding import b64url_pattern
from secureface.errors import IntegrityError, SessionError, StoreUnavailableError
from secureface.sessions.exchange import (
    DEFAULT_SESSION_TTL_S,
    SESSION_ID_LEN,
    SessionKeys,
    accept_exchange_at,
)
from secureface.sessions.records import SessionRecord, SessionStore, session_aad
from secureface.transactions.model import TransactionStore
from secureface.transactions.service import claim_for_session, release_claim

log = logging.getLogger(__name__)
SESSION_ID_RE = b64url_pattern(SESSION_ID_LEN)


class SessionVault:
    """Stored sessions and their keys, sealed under the envelope key: what the model and verify
    functions read, and the key exchange writes."""

    def __init__(self, store: SessionStore, envelope: EnvelopeCipher) -> None:
        self.store = store
        self.envelope = envelope

    def load_at(self, session_id: str, *, now: int) -> tuple[SessionRecord, SessionKeys]:
        """An unexpired session and its keys (used or not: model downloads may follow verify).

        Raises:
            SessionError: malformed id, unknown, or expired (the reason is logged, not returned).
        """
        record = self.store.get(_checked(session_id))
        if record is None:
            raise SessionError(reason="unknown session")
        if now >= record.expires_at:
            raise SessionError(reason="session expired")
        return record, self._unseal(record)

    def consume_at(self, session_id: str, *, now: int) -> tuple[SessionRecord, SessionKeys]:
        """Atomically take a ``verify`` session for its single attempt.

        Raises:
            SessionError: malformed id, unknown, expired, already used, or a models-only session.
        """
        record = self.store.consume_at(_checked(session_id), now)
        if record is None:
            raise SessionError(reason="session unknown, expired or already used")
        return record, self._unseal(record)

    def _unseal(self, record: SessionRecord) -> SessionKeys:
        try:
            packed = self.envelope.open(record.sealed_keys, session_aad(record.session_id))
            return SessionKeys.unpack(packed)
        except IntegrityError as exc:  # either a broken envelope or keys of the wrong length
            raise SessionError(reason=f"stored session keys: {exc.reason}") from exc


class KeyExchangeService:
    """The key-exchange function's use case: ``POST /session``."""

    def __init__(
        self,
        signer: DelegatedSigner,
        sessions: SessionVault,
        transactions: TransactionStore,
        *,
        ttl_s: int = DEFAULT_SESSION_TTL_S,
        allow_motion_only: bool = False,
    ) -> None:
        self._signer = signer
        self._sessions = sessions
        self._transactions = transactions
        self._ttl_s = ttl_s
        self._allow_motion_only = allow_motion_only

    def open_at(self, body: dict[str, Any], *, now: int) -> dict[str, str]:
        """Run the server side of the key exchange for a transaction's client token and store
        the session; returns the response body.

        The exchange is checked first (nothing is used up by a malformed request), then the keys
        sealed (KMS: nothing is used up when it fails), then the token claimed (a ``verify``
        session uses it up), then the session stored — and if that fails, the claim given back,
        so an outage does not use up the person's token for a session that never existed.

        Raises:
            BadRequestError: malformed request, or a mode the operator did not allow.
            ClientTokenError: the token is unknown, expired or used up.
            StoreUnavailableError: the store or KMS failed.
        """
        accepted = accept_exchange_at(
            body,
            self._signer,
            now=now,
            ttl_s=self._ttl_s,
            allow_motion_only=self._allow_motion_only,
        )
        t = accepted.transcript
        vault, transactions = self._sessions, self._transactions
        sealed = vault.envelope.seal_at(accepted.keys.packed(), session_aad(t.session_id), now=now)
        transaction, purpose = claim_for_session(transactions, body, t.session_id, now=now)
        record = SessionRecord(
            session_id=t.session_id,
            issued_at=t.issued_at,
            expires_at=t.expires_at,
            challenge=t.challenge,
            transcript_hash=accepted.transcript_hash,
            sealed_keys=sealed,
            transaction_id=transaction.transaction_id,
            purpose=purpose,
        )
        try:
            vault.store.insert(record)
        except StoreUnavailableError:
            release_claim(transactions, transaction.transaction_id, t.session_id, purpose)
            raise
        log.info("session opened", extra={"session_id": t.session_id, "outcome": purpose})
        return accepted.response


def _checked(session_id: str) -> str:
    if not isinstance(session_id, str) or not SESSION_ID_RE.fullmatch(session_id):
        raise SessionError(reason="malformed session id")
    return session_id
