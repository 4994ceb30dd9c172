"""MongoDB adapters (the only pymongo importer): session records, later templates and audit.

The client is created on first use from the settings (a connection string locally, the Atlas
secret in production) and reused. String ``_id``s and plain operations only, so the same code
runs on MongoDB Atlas, a ``mongo`` container and the local wire-protocol server. Driver errors
become :class:`~secureface.errors.StoreUnavailableError`.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from bson.binary import Binary
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.write_concern import WriteConcern

from secureface.crypto.envelope import Sealed
from secureface.errors import StoreUnavailableError
from secureface.sessions.challenge import Challenge
from secureface.sessions.records import SessionRecord
from secureface.settings import Settings

T = TypeVar("T")


#: Each MongoDB operation (server selection, connection, the request and its retry) ends
#: within this many milliseconds (the driver's client-side operation timeout). Atlas answers
#: in a few ms in-region; a database that stopped answering must become a 503 from the
#: function, not a Lambda timeout: a request's few operations fit in the smallest function's
#: 10 s (tests/faults measures it).
OPERATION_TIMEOUT_MS = 2000


@functools.cache
def database(uri: str, name: str) -> Database[dict[str, Any]]:
    """A cached database handle."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri, timeoutMS=OPERATION_TIMEOUT_MS, connectTimeoutMS=OPERATION_TIMEOUT_MS,
        uuidRepresentation="standard",
    )  # fmt: skip
    return client[name]


def connection_uri(settings: Settings) -> str:
    """The connection string: set directly (local) or read from Secrets Manager (production)."""
    if settings.mongo_uri:
        return settings.mongo_uri
    from secureface.adapters.aws import secret_string

    return secret_string(settings.mongo_secret_id)


def utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def guarded(what: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except PyMongoError as exc:
        raise StoreUnavailableError(reason=f"mongo {what} failed") from exc


class IndexedCollection:
    """Creates a collection's indexes once per instance, on first use."""

    def __init__(self, db: Any, name: str, indexes: list[tuple[str, dict[str, Any]]]) -> None:
        self.collection = db[name]
        self._indexes = indexes
        self._done = threading.Event()

    def ready(self) -> Any:
        if not self._done.is_set():
            try:
                for field, options in self._indexes:
                    self.collection.create_index(field, **options)
            except PyMongoError as exc:
                raise StoreUnavailableError(reason="mongo create_index failed") from exc
            self._done.set()
        return self.collection


class MongoSessionStore:
    """:class:`~secureface.sessions.records.SessionStore` on the ``sessions`` collection.

    A TTL index on ``expire_at`` deletes records after expiry; consumption is one atomic
    ``find_one_and_update`` so two concurrent verify requests cannot both use a session.
    """

    def __init__(self, db: Any) -> None:
        self._c = IndexedCollection(db, "sessions", [("expire_at", {"expireAfterSeconds": 0})])

    def insert(self, record: SessionRecord) -> None:
        sessions = self._c.ready()
        try:
            sessions.insert_one(_to_doc(record))
        except DuplicateKeyError as exc:
            raise StoreUnavailableError(reason="session id collision") from exc
        except PyMongoError as exc:
            raise StoreUnavailableError(reason="mongo insert failed") from exc

    def get(self, session_id: str) -> SessionRecord | None:
        doc = guarded("find", lambda: self._c.ready().find_one({"_id": session_id}))
        return None if doc is None else _from_doc(doc)

    def consume_at(self, session_id: str, now: int) -> SessionRecord | None:
        doc = guarded(
            "update",
            lambda: self._c.ready()
            .with_options(write_concern=WriteConcern(w="majority"))
            .find_one_and_update(
                {"_id": session_id, "used": False, "purpose": "verify", "expires_at": {"$gt": now}},
                {"$set": {"used": True, "used_at": now}},
            ),
        )
        return None if doc is None else _from_doc(doc)


def _to_doc(record: SessionRecord) -> dict[str, Any]:
    return {
        "_id": record.session_id,
        "issued_at": record.issued_at,
        "expires_at": record.expires_at,
        "expire_at": utc(record.expires_at),
        "challenge": record.challenge.to_json(),
        "transcript_hash": Binary(record.transcript_hash),
        "keys": {
            "edk": Binary(record.sealed_keys.encrypted_key),
            "nonce": Binary(record.sealed_keys.nonce),
            "ct": Binary(record.sealed_keys.ciphertext),
        },
        "transaction_id": record.transaction_id,
        "purpose": record.purpose,
        "used": record.used,
    }


def _from_doc(doc: dict[str, Any]) -> SessionRecord:
    keys = doc["keys"]
    return SessionRecord(
        session_id=str(doc["_id"]),
        issued_at=int(doc["issued_at"]),
        expires_at=int(doc["expires_at"]),
        challenge=Challenge.from_json(doc["challenge"]),
        transcript_hash=bytes(doc["transcript_hash"]),
        sealed_keys=Sealed(bytes(keys["edk"]), bytes(keys["nonce"]), bytes(keys["ct"])),
        transaction_id=str(doc.get("transaction_id", "")),
        purpose=str(doc.get("purpose", "")),
        used=bool(doc.get("used", False)),
    )


#: Default retention of audit records (the template's AuditRetentionDays, 90).
AUDIT_RETENTION_S = 90 * 24 * 3600


class MongoAuditLog:
    """Audit records with a TTL (retention)."""

    def __init__(self, db: Any, retention_s: int = AUDIT_RETENTION_S) -> None:
        self._c = IndexedCollection(
            db, "audit", [("expire_at", {"expireAfterSeconds": 0}), ("subject_id", {})]
        )
        self._retention_s = retention_s

    def record(self, entry: dict[str, Any], now: int) -> None:
        doc = {**entry, "at": now, "expire_at": utc(now + self._retention_s)}
        guarded("insert", lambda: self._c.ready().insert_one(doc))
