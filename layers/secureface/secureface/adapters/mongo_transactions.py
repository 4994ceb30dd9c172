"""MongoDB adapter of :class:`~secureface.transactions.model.TransactionStore` (``transactions``).

Every state change is one conditional ``find_one_and_update`` / ``update_one`` with majority
write concern, so two requests can never both take a transaction's verify session, both record
a decision, or both redeem its result.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.write_concern import WriteConcern

from secureface.adapters.mongo import IndexedCollection, guarded, utc
from secureface.errors import StoreUnavailableError
from secureface.transactions.model import (
    RESULT_TTL_S,
    STATUS_CREATED,
    STATUS_DECIDED,
    STATUS_REDEEMED,
    STATUS_STARTED,
    Transaction,
    TransactionRequest,
)

#: Kept a day after a transaction could last be redeemed (the audit log keeps the history).
RETAIN_S = 24 * 3600


class MongoTransactionStore:
    """Transactions by id, with a unique index on the client token's digest."""

    def __init__(self, db: Any) -> None:
        self._c = IndexedCollection(
            db,
            "transactions",
            [
                ("expire_at", {"expireAfterSeconds": 0}),
                ("token_sha256", {"unique": True}),
            ],
        )

    def _collection(self) -> Any:
        return self._c.ready().with_options(write_concern=WriteConcern(w="majority"))

    def insert(self, transaction: Transaction) -> None:
        try:
            self._collection().insert_one(_to_doc(transaction))
        except DuplicateKeyError as exc:
            raise StoreUnavailableError(reason="transaction id collision") from exc
        except PyMongoError as exc:
            raise StoreUnavailableError(reason="mongo insert failed") from exc

    def get(self, transaction_id: str) -> Transaction | None:
        doc = guarded("find", lambda: self._collection().find_one({"_id": transaction_id}))
        return None if doc is None else _from_doc(doc)

    def find_open(self, token_sha256: str, now: int) -> Transaction | None:
        doc = guarded("find", lambda: self._collection().find_one(_open(token_sha256, now)))
        return None if doc is None else _from_doc(doc)

    def add_model_session(self, token_sha256: str, now: int, limit: int) -> Transaction | None:
        query = {**_open(token_sha256, now), "model_sessions": {"$lt": limit}}
        return self._update(query, {"$inc": {"model_sessions": 1}})

    def start(self, token_sha256: str, session_id: str, now: int) -> Transaction | None:
        update = {"$set": {"status": STATUS_STARTED, "session_id": session_id, "started_at": now}}
        return self._update(_open(token_sha256, now), update)

    def release(self, transaction_id: str, session_id: str, purpose: str) -> None:
        if purpose == "models":
            query: dict[str, Any] = {"_id": transaction_id, "model_sessions": {"$gt": 0}}
            update: dict[str, Any] = {"$inc": {"model_sessions": -1}}
        else:
            query = {"_id": transaction_id, "status": STATUS_STARTED, "session_id": session_id}
            update = {"$set": {"status": STATUS_CREATED, "session_id": ""}}
        guarded("update", lambda: self._collection().update_one(query, update))

    def decide(
        self, transaction_id: str, session_id: str, decision: str, result: str, redeem_by: int
    ) -> bool:
        query = {"_id": transaction_id, "status": STATUS_STARTED, "session_id": session_id}
        update = {
            "$set": {
                "status": STATUS_DECIDED, "decision": decision, "result": result,
                "redeem_by": redeem_by, "expire_at": utc(redeem_by + RETAIN_S),
            }
        }  # fmt: skip
        outcome = guarded("update", lambda: self._collection().update_one(query, update))
        return bool(outcome.modified_count == 1)

    def redeem(self, transaction_id: str, client_id: str, now: int) -> Transaction | None:
        query = {
            "_id": transaction_id, "client_id": client_id, "status": STATUS_DECIDED,
            "redeem_by": {"$gt": now},
        }  # fmt: skip
        return self._update(query, {"$set": {"status": STATUS_REDEEMED, "redeemed_at": now}})

    def _update(self, query: dict[str, Any], update: dict[str, Any]) -> Transaction | None:
        doc = guarded(
            "update",
            lambda: self._collection().find_one_and_update(
                query, update, return_document=ReturnDocument.AFTER
            ),
        )
        return None if doc is None else _from_doc(doc)


def _open(token_sha256: str, now: int) -> dict[str, Any]:
    return {"token_sha256": token_sha256, "status": STATUS_CREATED, "expires_at": {"$gt": now}}


def _to_doc(t: Transaction) -> dict[str, Any]:
    r = t.request
    return {
        "_id": t.transaction_id, "client_id": t.client_id, "token_sha256": t.token_sha256,
        "subject_id": r.subject, "nonce": r.nonce, "return_url": r.return_url, "state": r.state,
        "locale": r.locale, "purpose": r.purpose, "created_at": t.created_at,
        "expires_at": t.expires_at, "status": t.status, "session_id": t.session_id,
        "model_sessions": 0, "result": t.result, "decision": t.decision,
        "redeem_by": t.redeem_by,
        "expire_at": utc(t.expires_at + RESULT_TTL_S + RETAIN_S),
    }  # fmt: skip


def _from_doc(doc: dict[str, Any]) -> Transaction:
    request = TransactionRequest(
        subject=str(doc["subject_id"]), nonce=str(doc["nonce"]),
        return_url=str(doc["return_url"]), state=str(doc["state"]),
        locale=str(doc["locale"]), purpose=str(doc["purpose"]),
    )  # fmt: skip
    return Transaction(
        transaction_id=str(doc["_id"]), client_id=str(doc["client_id"]),
        token_sha256=str(doc["token_sha256"]), request=request,
        created_at=int(doc["created_at"]), expires_at=int(doc["expires_at"]),
        status=str(doc["status"]), session_id=str(doc.get("session_id", "")),
        result=str(doc.get("result", "")), decision=str(doc.get("decision", "")),
        redeem_by=int(doc.get("redeem_by", 0)),
    )  # fmt: skip
