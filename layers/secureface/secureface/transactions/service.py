"""Transaction use cases: a relying party starts one, the hosted page reads it and opens its
sessions with the client token, verify records the signed result, the relying party redeems it
once. Client tokens are never logged or stored (only their SHA-256)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from secureface.encoding import b64url_encode
from secureface.errors import (
    BadRequestError,
    ClientTokenError,
    GoneError,
    NotFoundError,
    PendingError,
    StoreUnavailableError,
)
from secureface.ports import AuditLog
from secureface.transactions.model import (
    ID_BYTES,
    ID_RE,
    MAX_MODEL_SESSIONS,
    RESULT_TTL_S,
    STATUS_DECIDED,
    STATUS_REDEEMED,
    STATUS_STARTED,
    TOKEN_BYTES,
    TOKEN_RE,
    TRANSACTION_TTL_S,
    Transaction,
    TransactionRequest,
    TransactionStore,
    token_digest,
)
from secureface.transactions.registry import Registry
from secureface.transactions.result import Result, ResultSigner
from secureface.verify.request import Consent

log = logging.getLogger(__name__)
#: What ``POST /session`` may ask a client token for.
SESSION_PURPOSES = ("models", "verify")


@dataclass
class TransactionService:
    """The relying-party side of the API (``/v1/transactions``, ``/v1/flow``)."""

    store: TransactionStore
    registry: Registry
    audit: AuditLog
    frontend_url: str
    ttl_s: int = TRANSACTION_TTL_S

    def start_at(self, authorization: str, body: dict[str, Any], *, now: int) -> dict[str, Any]:
        """``POST /v1/transactions``: a new transaction for the authenticated relying party.

        Raises:
            ClientAuthError: bad credentials (401). BadRequestError: a field breaks its rule.
        """
        rp = self.registry.authenticate(authorization)
        request = TransactionRequest.parse(body, rp)
        token = b64url_encode(secrets.token_bytes(TOKEN_BYTES))
        transaction = Transaction(
            transaction_id=b64url_encode(secrets.token_bytes(ID_BYTES)),
            client_id=rp.client_id,
            token_sha256=token_digest(token),
            request=request,
            created_at=now,
            expires_at=now + self.ttl_s,
        )
        self.store.insert(transaction)
        self.audit.record(
            {"kind": "transaction", "transaction_id": transaction.transaction_id,
             "client_id": rp.client_id, "subject_id": request.subject,
             "purpose": request.purpose, "locale": request.locale},
            now,
        )  # fmt: skip
        log.info("transaction started", extra={"client_id": rp.client_id, "outcome": "started"})
        return {
            "transaction_id": transaction.transaction_id,
            "client_token": token,
            "hosted_url": f"{self.frontend_url}/#token={token}",
            "expires_at": transaction.expires_at,
        }

    def describe_at(self, body: dict[str, Any], *, now: int) -> dict[str, Any]:
        """``POST /v1/flow``: what the hosted page shows and where it returns (token not used up).

        Raises:
            BadRequestError: no token. ClientTokenError: unknown, expired or used up.
        """
        transaction = self.store.find_open(token_digest(checked_token(body)), now)
        if transaction is None:
            raise ClientTokenError(reason="flow: token unknown, expired or used")
        rp = self.registry.get(transaction.client_id)
        if rp is None:
            raise ClientTokenError(reason="flow: relying party no longer registered")
        request = transaction.request
        return {
            "transaction_id": transaction.transaction_id,
            "relying_party": {
                "client_id": rp.client_id,
                "name": rp.name,
                "alternative_url": rp.alternative_url,
            },
            "purpose": request.purpose,
            "locale": request.locale,
            "return_url": request.return_url,
            "state": request.state,
            "expires_at": transaction.expires_at,
        }

    def redeem_at(self, authorization: str, transaction_id: str, *, now: int) -> dict[str, Any]:
        """``GET /v1/transactions/{id}``: the result token, once, to the relying party that
        started the transaction.

        Raises:
            ClientAuthError (401); NotFoundError (404: unknown or another party's);
            PendingError (409: no decision yet, nothing used up); GoneError (410: redeemed or
            expired).
        """
        rp = self.registry.authenticate(authorization)
        if not isinstance(transaction_id, str) or not ID_RE.fullmatch(transaction_id):
            raise NotFoundError("No such transaction")
        redeemed = self.store.redeem(transaction_id, rp.client_id, now)
        if redeemed is None:
            raise self._why_not_redeemable(transaction_id, rp.client_id, now)
        self.audit.record(
            {"kind": "redeem", "transaction_id": transaction_id, "client_id": rp.client_id,
             "subject_id": redeemed.request.subject, "decision": redeemed.decision},
            now,
        )  # fmt: skip
        return {"transaction_id": transaction_id, "status": "completed", "result": redeemed.result}

    def _why_not_redeemable(self, transaction_id: str, client_id: str, now: int) -> Exception:
        found = self.store.get(transaction_id)
        if found is None or found.client_id != client_id:
            return NotFoundError("No such transaction")
        if found.status == STATUS_REDEEMED:
            return GoneError(reason="already redeemed")
        if found.status == STATUS_DECIDED:
            return GoneError(reason="expired")  # past redeem_by
        if found.status == STATUS_STARTED and now < found.expires_at + RESULT_TTL_S:
            # its verify session may still be deciding (opened before expiry, 60 s deadline):
            # never a 410 that a later 200 would contradict
            return PendingError()
        if now >= found.expires_at:
            return GoneError(reason="expired")
        return PendingError()


def checked_token(body: dict[str, Any]) -> str:
    """The ``client_token`` of a request body.

    Raises:
        BadRequestError: missing or not a client token's shape.
    """
    token = body.get("client_token")
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise BadRequestError("client_token is missing or malformed")
    return token


def claim_for_session(
    store: TransactionStore, body: dict[str, Any], session_id: str, *, now: int
) -> tuple[Transaction, str]:
    """The transaction a ``POST /session`` opens a session for, and the session's purpose.

    ``models``: counted (at most :data:`MAX_MODEL_SESSIONS`), the token stays usable.
    ``verify``: the transaction's one verify session (``created`` → ``started``, atomic).

    Raises:
        BadRequestError: no or malformed token, unknown purpose.
        ClientTokenError: the token is unknown, expired or used up.
    """
    token = checked_token(body)
    purpose = body.get("purpose", "verify")
    if purpose not in SESSION_PURPOSES:
        raise BadRequestError(f"purpose must be one of {', '.join(SESSION_PURPOSES)}")
    digest = token_digest(token)
    if purpose == "models":
        claimed = store.add_model_session(digest, now, MAX_MODEL_SESSIONS)
    else:
        claimed = store.start(digest, session_id, now)
    if claimed is None:
        raise ClientTokenError(reason=f"session ({purpose}): token unknown, expired or used")
    return claimed, str(purpose)


def release_claim(
    store: TransactionStore, transaction_id: str, session_id: str, purpose: str
) -> None:
    """Give back what :func:`claim_for_session` took, for a session that could not be stored:
    the verify claim (``started`` by ``session_id`` → ``created``) or one model session. Best
    effort: when the store is down this fails too, and the token stays used up (at most once
    is kept either way; the person starts again from the relying party)."""
    try:
        store.release(transaction_id, session_id, purpose)
    except StoreUnavailableError:
        log.warning("claim not given back", extra={"reason": "store_unavailable"})


def record_result_at(
    store: TransactionStore,
    signer: ResultSigner,
    issuer: str,
    transaction: Transaction,
    session_id: str,
    *,
    decision: str,
    assurance: str,
    hint: str,
    now: int,
) -> None:
    """Sign the decision as the relying party's result token and store it for redemption.

    Raises:
        StoreUnavailableError: KMS or the store failed, or the transaction is no longer this
            session's to decide (the caller must not report success then).
    """
    request = transaction.request
    token = signer.sign(
        Result(
            issuer=issuer, subject=request.subject, audience=transaction.client_id,
            nonce=request.nonce, transaction_id=transaction.transaction_id,
            issued_at=now, expires_at=now + RESULT_TTL_S,
            decision=decision, assurance=assurance, hint=hint,
        )
    )  # fmt: skip
    redeem_by = now + RESULT_TTL_S
    if not store.decide(transaction.transaction_id, session_id, decision, token, redeem_by):
        raise StoreUnavailableError(reason="transaction not in the started state for this session")


#: How far a browser's clock may be off when it dates the person's consent, seconds.
CONSENT_SKEW_S = 300


def check_consent(consent: Consent, transaction: Transaction, *, now: int) -> None:
    """The consent sent with an attempt names this transaction and a plausible time.

    Raises:
        BadRequestError: another transaction, or dated before the transaction or in the future
            (beyond :data:`CONSENT_SKEW_S` of clock difference).
    """
    if consent.transaction_id != transaction.transaction_id:
        raise BadRequestError("consent names another transaction")
    earliest = (transaction.created_at - CONSENT_SKEW_S) * 1000
    if not earliest <= consent.accepted_at_ms <= (now + CONSENT_SKEW_S) * 1000:
        raise BadRequestError("consent.accepted_at is outside the transaction's lifetime")
