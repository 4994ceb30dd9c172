"""In-memory implementations of the package's ports, for unit tests of the pure core.

They are real implementations (a real ECDSA key, a dict as a bucket), not mocks of our own code;
integration tests run the same logic against moto and the local API.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import threading
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.ecdsa import spki_der
from secureface.crypto.envelope import Sealed
from secureface.errors import StoreUnavailableError
from secureface.sessions.records import SessionRecord
from secureface.transactions.model import (
    STATUS_CREATED,
    STATUS_DECIDED,
    STATUS_REDEEMED,
    STATUS_STARTED,
    Transaction,
    token_digest,
)
from secureface.transactions.result import ResultSigner, jwks
from secureface.verify.records import TemplateRecord


class MemoryStore:
    """ObjectStore on a dict."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.puts: list[str] = []

    def get(self, key: str) -> bytes | None:
        return self.objects[key][0] if key in self.objects else None

    def metadata(self, key: str) -> dict[str, str] | None:
        return dict(self.objects[key][1]) if key in self.objects else None

    def put(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        self.objects[key] = (data, dict(metadata))
        self.puts.append(key)


class LocalSigner:
    """Signer with an in-memory P-256 key (KMS stands in for it in production)."""

    def __init__(self, key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self.key = key or ec.generate_private_key(ec.SECP256R1())

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message, ec.ECDSA(hashes.SHA256()))

    def public_key_der(self) -> bytes:
        return spki_der(self.key.public_key())


class LocalResultSigner(ResultSigner):
    """ResultSigner over an in-memory P-256 key (the results key in KMS in production)."""

    def __init__(self, key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self.local = LocalSigner(key)
        super().__init__(self.local.sign, self.local.public_key_der)

    @property
    def key(self) -> ec.EllipticCurvePrivateKey:
        return self.local.key

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS publishing this key (as ``/.well-known/jwks.json``)."""
        return jwks([self.local.public_key_der()])


class PlainDataKeys:
    """DataKeys without KMS: the "wrapped" key is the key itself behind a prefix."""

    def generate(self) -> tuple[bytes, bytes]:
        key = os.urandom(32)
        return key, b"wrapped:" + key

    def decrypt(self, blob: bytes) -> bytes:
        return blob.removeprefix(b"wrapped:")


class MemoryAttempts:
    """AttemptStore on dicts."""

    def __init__(self) -> None:
        self.attempts: dict[str, list[tuple[str, int]]] = {}
        self.locks: dict[str, int] = {}
        self._lock = threading.Lock()  # the Mongo adapter's single-document atomicity

    def reserve(self, key: str, attempt_id: str, now: int, window_s: int, limit: int) -> bool:
        with self._lock:
            kept = [(a, t) for a, t in self.attempts.get(key, []) if t > now - window_s]
            if len(kept) >= limit:
                self.attempts[key] = kept
                return False
            self.attempts[key] = [*kept, (attempt_id, now)]
            return True

    def release(self, key: str, attempt_id: str) -> None:
        with self._lock:
            self.attempts[key] = [(a, t) for a, t in self.attempts.get(key, []) if a != attempt_id]

    def count(self, key: str, now: int, window_s: int) -> int:
        return sum(1 for _, t in self.attempts.get(key, []) if t > now - window_s)

    def lock(self, key: str, until: int) -> None:
        self.locks[key] = until

    def locked_until(self, key: str, now: int) -> int | None:
        until = self.locks.get(key)
        return until if until is not None and until > now else None


class MemorySessions:
    """SessionStore on a dict, single use like the MongoDB adapter."""

    def __init__(self) -> None:
        self.records: dict[str, SessionRecord] = {}

    def insert(self, record: SessionRecord) -> None:
        if record.session_id in self.records:
            raise ValueError("duplicate session id")
        self.records[record.session_id] = record

    def get(self, session_id: str) -> SessionRecord | None:
        return self.records.get(session_id)

    def consume_at(self, session_id: str, now: int) -> SessionRecord | None:
        record = self.records.get(session_id)
        if record is None or record.used or record.purpose != "verify" or now >= record.expires_at:
            return None
        self.records[session_id] = dataclasses.replace(record, used=True)
        return record


class MemoryTransactions:
    """TransactionStore on a dict, with the MongoDB adapter's conditional transitions: each
    method checks and changes a record in one step (nothing else runs in between here), and
    the token digest is unique like the adapter's index."""

    def __init__(self) -> None:
        self.records: dict[str, Transaction] = {}
        #: ``model_sessions`` of the adapter's documents (not a field of the record).
        self.model_sessions: dict[str, int] = {}

    def insert(self, transaction: Transaction) -> None:
        if transaction.transaction_id in self.records or any(
            t.token_sha256 == transaction.token_sha256 for t in self.records.values()
        ):
            raise StoreUnavailableError(reason="transaction id collision")
        self.records[transaction.transaction_id] = transaction
        self.model_sessions[transaction.transaction_id] = 0

    def get(self, transaction_id: str) -> Transaction | None:
        return self.records.get(transaction_id)

    def _open(self, token_sha256: str, now: int) -> Transaction | None:
        return next(
            (
                t
                for t in self.records.values()
                if t.token_sha256 == token_sha256
                and t.status == STATUS_CREATED
                and t.expires_at > now
            ),
            None,
        )

    def find_open(self, token_sha256: str, now: int) -> Transaction | None:
        return self._open(token_sha256, now)

    def add_model_session(self, token_sha256: str, now: int, limit: int) -> Transaction | None:
        found = self._open(token_sha256, now)
        if found is None or self.model_sessions[found.transaction_id] >= limit:
            return None
        self.model_sessions[found.transaction_id] += 1
        return found

    def start(self, token_sha256: str, session_id: str, now: int) -> Transaction | None:
        found = self._open(token_sha256, now)
        if found is None:
            return None
        started = dataclasses.replace(found, status=STATUS_STARTED, session_id=session_id)
        self.records[found.transaction_id] = started
        return started

    def release(self, transaction_id: str, session_id: str, purpose: str) -> None:
        found = self.records.get(transaction_id)
        if found is None:
            return
        if purpose == "models":
            self.model_sessions[transaction_id] = max(0, self.model_sessions[transaction_id] - 1)
        elif found.status == STATUS_STARTED and found.session_id == session_id:
            self.records[transaction_id] = dataclasses.replace(
                found, status=STATUS_CREATED, session_id=""
            )

    def decide(
        self, transaction_id: str, session_id: str, decision: str, result: str, redeem_by: int
    ) -> bool:
        found = self.records.get(transaction_id)
        if found is None or found.status != STATUS_STARTED or found.session_id != session_id:
            return False
        self.records[transaction_id] = dataclasses.replace(
            found, status=STATUS_DECIDED, decision=decision, result=result, redeem_by=redeem_by
        )
        return True

    def redeem(self, transaction_id: str, client_id: str, now: int) -> Transaction | None:
        found = self.records.get(transaction_id)
        if (
            found is None
            or found.client_id != client_id
            or found.status != STATUS_DECIDED
            or not found.redeem_by > now
        ):
            return None
        redeemed = dataclasses.replace(found, status=STATUS_REDEEMED)
        self.records[transaction_id] = redeemed
        return redeemed


class MemoryTemplates:
    """TemplateStore on a dict."""

    def __init__(self) -> None:
        self.records: dict[str, TemplateRecord] = {}

    def next_version(self, subject_id: str) -> int:
        record = self.records.get(subject_id)
        return 1 if record is None else record.version + 1

    def put(self, record: TemplateRecord) -> None:
        self.records[record.subject_id] = record

    def get(self, subject_id: str) -> TemplateRecord | None:
        return self.records.get(subject_id)

    def delete(self, subject_id: str) -> bool:
        return self.records.pop(subject_id, None) is not None


class MemoryAudit:
    """AuditLog on a list."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any], now: int) -> None:
        self.entries.append({**entry, "at": now})


class MemoryAccepted:
    """AcceptedStore on a dict of lists (newest first)."""

    def __init__(self) -> None:
        self.bursts: dict[str, list[Sealed]] = {}

    def recent(self, subject_id: str) -> list[Sealed]:
        return list(self.bursts.get(subject_id, []))

    def remember(self, subject_id: str, sealed: Sealed, now: int, ttl_s: int, keep: int) -> None:
        del now, ttl_s
        self.bursts[subject_id] = [sealed, *self.bursts.get(subject_id, [])][:keep]


class MemorySecret:
    """A secret's text as ``Registry`` loads it (Secrets Manager in production), counting reads."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.reads = 0

    def __call__(self) -> str:
        self.reads += 1
        return json.dumps(self.document)


#: A relying party registered in an in-memory registry (``Registry(MemorySecret(REGISTRY))``):
#: its id, secret, return URL and the Basic credentials its backend sends.
CLIENT_ID, SECRET = "demo-bank", "demo-bank-secret-0123456789abcdef"
RETURN_URL = "https://bank.example/callback"
AUTHORIZATION = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
REGISTRY = {
    "relying_parties": [
        {"client_id": CLIENT_ID, "name": "Demo Bank", "secret_sha256": token_digest(SECRET),
         "return_urls": [RETURN_URL]},
    ]
}  # fmt: skip
