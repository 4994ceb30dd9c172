"""Transactions and relying parties: the records, the rules of their fields, the store port.

A transaction is started by a relying party's backend for one of *its* people (``subject``) and
one of *its* logins (``nonce``, ``state``). It hands the browser a single-use client token (only
its SHA-256 is stored), which opens at most :data:`MAX_MODEL_SESSIONS` model-download sessions
and exactly one verify session; the verify decision is stored as a signed result token, which
the relying party's backend redeems once::

    created ──(verify session)──▶ started ──(decision)──▶ decided ──(redeem)──▶ redeemed
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

from secureface.encoding import b64url_pattern
from secureface.errors import BadRequestError
from secureface.verify.request import check_subject_id

#: Seconds from a transaction's start within which its client token opens sessions and its
#: result can be redeemed (the result token itself lives :data:`RESULT_TTL_S`).
TRANSACTION_TTL_S = 600
RESULT_TTL_S = 600
#: Model-download sessions one client token may open (page reloads), besides its verify session.
MAX_MODEL_SESSIONS = 5
PURPOSES = ("sign_in", "step_up", "recovery")
LOCALES = ("en", "hi")
#: The consent notice the hosted page shows (frontend/src/i18n); recorded with every attempt.
CONSENT_NOTICE = "2026-12.1"
#: The return URL's ``error`` when the person came back without a decision (declined, cancelled,
#: or a failure before the server decided): the relying party then redeems nothing.
ACCESS_DENIED = "access_denied"
CONSENT_NOTICES = (CONSENT_NOTICE,)
TOKEN_BYTES = 32
ID_BYTES = 16
TOKEN_RE = b64url_pattern(TOKEN_BYTES)
ID_RE = b64url_pattern(ID_BYTES)
NONCE_RE = re.compile(r"^[A-Za-z0-9._~-]{16,128}$")
STATE_RE = re.compile(r"^[A-Za-z0-9._~-]{1,256}$")
CLIENT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")

STATUS_CREATED, STATUS_STARTED, STATUS_DECIDED, STATUS_REDEEMED = (
    "created", "started", "decided", "redeemed",
)  # fmt: skip


@dataclass(frozen=True)
class RelyingParty:
    """A registered relying party (docs/INTEGRATION.md, the registry secret).

    Attributes:
        client_id: its identifier; the ``aud`` of its result tokens.
        name: shown to the person on the hosted page.
        secret_sha256: hex SHA-256 of its client secret (the secret itself is never stored:
            32 random bytes need no slow hash).
        return_urls: the exact URLs the hosted page may send the person back to.
        alternative_url: where a person who cannot or will not use their face goes instead.
    """

    client_id: str
    name: str
    secret_sha256: str
    return_urls: tuple[str, ...]
    alternative_url: str = ""


@dataclass(frozen=True)
class TransactionRequest:
    """What a relying party asks for (``POST /v1/transactions``), checked."""

    subject: str
    nonce: str
    return_url: str
    state: str
    locale: str
    purpose: str

    @classmethod
    def parse(cls, body: dict[str, Any], rp: RelyingParty) -> TransactionRequest:
        """Raises BadRequestError naming the first field that breaks its rule."""
        locale = body.get("locale", "")
        purpose = body.get("purpose", "sign_in")
        return_url = body.get("return_url")
        if not _matches(NONCE_RE, body.get("nonce")):
            raise BadRequestError("nonce must be 16-128 characters [A-Za-z0-9._~-]")
        if not _matches(STATE_RE, body.get("state")):
            raise BadRequestError("state must be 1-256 characters [A-Za-z0-9._~-]")
        if locale not in ("", *LOCALES):
            raise BadRequestError(f"locale must be one of {', '.join(LOCALES)} or empty")
        if purpose not in PURPOSES:
            raise BadRequestError(f"purpose must be one of {', '.join(PURPOSES)}")
        if not isinstance(return_url, str) or return_url not in rp.return_urls:
            # Exact string match (RFC 9700 §4.1.3): no prefixes, no patterns.
            raise BadRequestError("return_url is not one of this client's registered URLs")
        try:
            subject = check_subject_id(body.get("subject"))
        except BadRequestError as exc:
            raise BadRequestError("subject must be 1-64 characters [A-Za-z0-9._@-]") from exc
        return cls(subject, body["nonce"], return_url, body["state"], locale, purpose)


@dataclass(frozen=True)
class Transaction:
    """A stored transaction."""

    transaction_id: str
    client_id: str
    token_sha256: str
    request: TransactionRequest
    created_at: int
    expires_at: int
    status: str = STATUS_CREATED
    session_id: str = ""
    result: str = ""
    decision: str = ""
    redeem_by: int = 0


class TransactionStore(Protocol):
    """Persistence for transactions (MongoDB in production); every transition is atomic."""

    def insert(self, transaction: Transaction) -> None:
        """Store a new transaction."""

    def get(self, transaction_id: str) -> Transaction | None:
        """The transaction, if present."""

    def find_open(self, token_sha256: str, now: int) -> Transaction | None:
        """The ``created``, unexpired transaction of this token, if any."""

    def add_model_session(self, token_sha256: str, now: int, limit: int) -> Transaction | None:
        """Count one more model session of a ``created``, unexpired transaction still under
        ``limit``; ``None`` if none qualifies."""

    def start(self, token_sha256: str, session_id: str, now: int) -> Transaction | None:
        """``created`` → ``started`` with ``session_id``, if unexpired; else ``None``."""

    def release(self, transaction_id: str, session_id: str, purpose: str) -> None:
        """Undo a claim whose session was not stored: ``verify``: ``started`` by
        ``session_id`` → ``created``; ``models``: one model session fewer."""

    def decide(
        self, transaction_id: str, session_id: str, decision: str, result: str, redeem_by: int
    ) -> bool:
        """``started`` (by ``session_id``) → ``decided`` with the result, redeemable until
        ``redeem_by``; whether it happened."""

    def redeem(self, transaction_id: str, client_id: str, now: int) -> Transaction | None:
        """``decided`` → ``redeemed`` for its own client before ``redeem_by``; else ``None``."""


def token_digest(token: str) -> str:
    """What is stored of a client token or a client secret: its SHA-256 (of UTF-8), hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None
