"""MongoDB stores of the verify side: templates, attempts/locks, audit, accepted bursts.

Plain operations on string ``_id``s only (they run the same on Atlas, a ``mongo`` container and
the local wire server); TTL indexes expire attempts, locks and audit records.
"""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

from bson.binary import Binary
from pymongo.write_concern import WriteConcern

from secureface.adapters.mongo import IndexedCollection, guarded, utc
from secureface.crypto.envelope import Sealed
from secureface.verify.records import TemplateRecord


class MongoTemplateStore:
    """Templates: ``_id`` = subject id (unique), the sealed embedding, version, model."""

    def __init__(self, db: Any) -> None:
        self._c = IndexedCollection(db, "templates", [])

    def next_version(self, subject_id: str) -> int:
        doc = guarded("find", lambda: self._c.ready().find_one({"_id": subject_id}, {"version": 1}))
        return 1 if doc is None else int(doc["version"]) + 1

    def put(self, record: TemplateRecord) -> None:
        doc = {
            "version": record.version,
            "model": record.model,
            "enrolled_at": record.enrolled_at,
            "edk": Binary(record.sealed.encrypted_key),
            "nonce": Binary(record.sealed.nonce),
            "ct": Binary(record.sealed.ciphertext),
        }
        # update_one + $set rather than replace_one: the local wire server's replace_one
        # upsert ignores the filter's _id (docs/ARCHITECTURE.md); both mean the same on MongoDB.
        guarded(
            "upsert",
            lambda: self._c.ready().update_one(
                {"_id": record.subject_id}, {"$set": doc}, upsert=True
            ),
        )

    def get(self, subject_id: str) -> TemplateRecord | None:
        doc = guarded("find", lambda: self._c.ready().find_one({"_id": subject_id}))
        if doc is None:
            return None
        sealed = Sealed(bytes(doc["edk"]), bytes(doc["nonce"]), bytes(doc["ct"]))
        return TemplateRecord(
            subject_id, int(doc["version"]), str(doc["model"]), int(doc["enrolled_at"]), sealed
        )

    def delete(self, subject_id: str) -> bool:
        result = guarded("delete", lambda: self._c.ready().delete_one({"_id": subject_id}))
        return bool(result.deleted_count)


class MongoAttemptStore:
    """Attempts (one document per key: the window's attempts and their count) and locks
    (expiring when over). Every write is majority-acknowledged.

    A reservation is one conditional update of the key's document, ``{_id: key, n: {$lt:
    limit}}`` with ``$inc n`` and ``$push`` of the attempt: when ``limit`` attempts are there
    the filter misses and nothing is written, atomically, whatever the concurrency. Attempts
    older than the window are pruned first by an optimistic rewrite (``v`` must not have moved;
    if it did, pruning waits for the next attempt: conservative). Entries are strings,
    ``<12-digit time>-<id>`` (plain values: they behave the same on Atlas and on the local wire
    server, which stores pushed sub-documents as text).
    """

    def __init__(self, db: Any) -> None:
        self._attempts = IndexedCollection(
            db, "attempts", [("expire_at", {"expireAfterSeconds": 0})]
        )
        self._locks = IndexedCollection(db, "locks", [("expire_at", {"expireAfterSeconds": 0})])

    def _collection(self, indexed: IndexedCollection) -> Any:
        return indexed.ready().with_options(write_concern=WriteConcern(w="majority"))

    def reserve(self, key: str, attempt_id: str, now: int, window_s: int, limit: int) -> bool:
        attempts = self._collection(self._attempts)
        create = {"$setOnInsert": {"attempts": [], "n": 0, "v": 0}}
        guarded("upsert", lambda: attempts.update_one({"_id": key}, create, upsert=True))
        doc = guarded("find", lambda: attempts.find_one({"_id": key}))
        kept = [e for e in doc["attempts"] if _entry_time(e) > now - window_s]
        if len(kept) != len(doc["attempts"]):
            prune = {"$set": {"attempts": kept, "n": len(kept)}, "$inc": {"v": 1}}
            guarded("update", lambda: attempts.update_one({"_id": key, "v": doc["v"]}, prune))
        update = {
            "$push": {"attempts": _entry(attempt_id, now)},
            "$inc": {"n": 1, "v": 1},
            "$set": {"expire_at": utc(now + window_s)},
        }
        query = {"_id": key, "n": {"$lt": limit}}
        pushed = guarded("update", lambda: attempts.update_one(query, update))
        return bool(pushed.modified_count == 1)  # 0: `limit` attempts are there

    def release(self, key: str, attempt_id: str) -> None:
        attempts = self._collection(self._attempts)
        found = guarded("find", lambda: attempts.find_one({"_id": key}))
        mine = [e for e in ([] if found is None else found["attempts"]) if e.endswith(attempt_id)]
        for entry in mine:
            query = {"_id": key, "attempts": entry}
            update = {"$pull": {"attempts": entry}, "$inc": {"n": -1, "v": 1}}
            guarded("update", partial(attempts.update_one, query, update))

    def count(self, key: str, now: int, window_s: int) -> int:
        doc = guarded("find", lambda: self._attempts.ready().find_one({"_id": key}))
        entries = [] if doc is None else doc["attempts"]
        return sum(1 for entry in entries if _entry_time(entry) > now - window_s)

    def lock(self, key: str, until: int) -> None:
        doc = {"until": until, "expire_at": utc(until)}
        locks = self._collection(self._locks)
        guarded("lock", lambda: locks.update_one({"_id": key}, {"$set": doc}, upsert=True))

    def locked_until(self, key: str, now: int) -> int | None:
        doc = guarded("find", lambda: self._locks.ready().find_one({"_id": key}))
        if doc is None or int(doc["until"]) <= now:
            return None
        return int(doc["until"])


def _entry(attempt_id: str, at: int) -> str:
    return f"{at:012d}-{attempt_id}"


def _entry_time(entry: str) -> int:
    return int(entry[:12])


class MongoAcceptedStore:
    """Sealed fingerprints of accepted bursts (:mod:`secureface.verify.memory`), with a TTL."""

    def __init__(self, db: Any) -> None:
        self._c = IndexedCollection(
            db, "accepted", [("subject_id", {}), ("expire_at", {"expireAfterSeconds": 0})]
        )

    def recent(self, subject_id: str) -> list[Sealed]:
        docs = guarded(
            "find",
            lambda: list(
                self._c.ready().find({"subject_id": subject_id}).sort("at", -1).limit(100)
            ),
        )
        return [Sealed(bytes(d["edk"]), bytes(d["nonce"]), bytes(d["ct"])) for d in docs]

    def remember(self, subject_id: str, sealed: Sealed, now: int, ttl_s: int, keep: int) -> None:
        collection = self._c.ready()
        doc = {
            "_id": secrets.token_urlsafe(16),
            "subject_id": subject_id,
            "at": now,
            "expire_at": utc(now + ttl_s),
            "edk": Binary(sealed.encrypted_key),
            "nonce": Binary(sealed.nonce),
            "ct": Binary(sealed.ciphertext),
        }
        guarded("insert", lambda: collection.insert_one(doc))
        old = guarded(
            "find",
            lambda: [
                d["_id"]
                for d in collection.find({"subject_id": subject_id}, {"_id": 1})
                .sort("at", -1)
                .skip(keep)
            ],
        )
        if old:
            guarded("delete", lambda: collection.delete_many({"_id": {"$in": old}}))
