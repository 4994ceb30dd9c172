"""What each function may do in MongoDB: one database user per function, one custom role each,
collection-level privileges only (docs/DEPLOY.md, "MongoDB users").

:data:`PRIVILEGES` is the single source: :func:`apply` creates the roles and users on a MongoDB
that enforces access control (the ``mongo`` service in GitHub Actions, through
``python -m devstack up --mongo-users``), :func:`atlas_commands` prints the same roles for
MongoDB Atlas (``atlas customDbRoles create`` / ``atlas dbusers create``), and the integration
tests check every command each function sent against it (:func:`command_actions`).

Why: one credential for every function let the model and key-exchange functions read every face
template and write any subject's. With these roles, only the verify function touches
``templates``, ``attempts``, ``locks`` and ``accepted``; the model function only reads
``sessions``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

#: Function (the template's logical id) -> collection -> privilege actions. ``createIndex``:
#: each store creates its indexes on first use (TTL and unique indexes).
PRIVILEGES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "KeyExchangeFunction": {
        "sessions": ("insert", "createIndex"),
        "transactions": ("find", "update", "createIndex"),
    },
    "ModelFunction": {
        "sessions": ("find", "createIndex"),
    },
    "TransactionsFunction": {
        "transactions": ("find", "insert", "update", "createIndex"),
        "audit": ("insert", "createIndex"),
    },
    "VerifyFunction": {
        "sessions": ("find", "update", "createIndex"),
        "transactions": ("find", "update", "createIndex"),
        "templates": ("find", "insert", "update", "remove"),
        "attempts": ("find", "insert", "update", "createIndex"),
        "locks": ("find", "insert", "update", "createIndex"),
        "audit": ("insert", "createIndex"),
        "accepted": ("find", "insert", "remove", "createIndex"),
    },
}

#: Commands every authenticated user may run (handshake, session bookkeeping).
_FREE = {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo", "saslStart",
         "saslContinue", "getnonce", "killCursors", "getMore", "abortTransaction",
         "commitTransaction"}  # fmt: skip


def role_name(function: str) -> str:
    """The custom role (and user) name of ``function``: ``secureface-keyexchange`` etc."""
    return "secureface-" + function.removesuffix("Function").lower()


def role_privileges(function: str, db: str) -> list[dict[str, Any]]:
    """``createRole`` privileges of ``function`` on database ``db``."""
    return [
        {"resource": {"db": db, "collection": collection}, "actions": list(actions)}
        for collection, actions in PRIVILEGES[function].items()
    ]


def apply(admin: Any, db: str, passwords: Mapping[str, str]) -> None:
    """Create or update each function's role and user in ``db`` (``admin``: a ``MongoClient``
    with ``userAdmin`` on it). Users authenticate against ``db`` (``authSource=<db>``)."""
    target = admin[db]
    existing_roles = {r["role"] for r in target.command("rolesInfo", 1)["roles"]}
    existing_users = {u["user"] for u in target.command("usersInfo", 1)["users"]}
    for function in PRIVILEGES:
        name = role_name(function)
        verb = "updateRole" if name in existing_roles else "createRole"
        target.command(verb, name, privileges=role_privileges(function, db), roles=[])
        verb = "updateUser" if name in existing_users else "createUser"
        target.command(verb, name, pwd=passwords[function], roles=[{"role": name, "db": db}])


def atlas_commands(db: str) -> Iterator[str]:
    """The Atlas CLI commands that create the same roles and users (Atlas keeps custom roles
    and users in ``admin``; the password is prompted)."""
    for function, collections in PRIVILEGES.items():
        name = role_name(function)
        privileges = ",".join(
            f"{_ATLAS_ACTION[action]}@{db}.{collection}"
            for collection, actions in collections.items()
            for action in actions
        )
        yield f"atlas customDbRoles create {name} --privilege {privileges}"
        yield f"atlas dbusers create --username {name} --role {name}@admin --password"


#: Privilege actions as the Atlas CLI and Admin API spell them.
_ATLAS_ACTION = {"find": "FIND", "insert": "INSERT", "update": "UPDATE", "remove": "REMOVE",
                 "createIndex": "CREATE_INDEX"}  # fmt: skip


def command_actions(command_name: str, command: Mapping[str, Any]) -> tuple[str, set[str]]:
    """``(collection, privilege actions)`` a command needs; ``("", set())`` for commands any
    authenticated user may run. Raises ``ValueError`` for a command not mapped here (a new
    kind of access that must be granted deliberately)."""
    if command_name in _FREE:
        return "", set()
    collection = str(command.get(command_name, ""))
    if command_name in ("find", "count", "distinct", "aggregate"):
        return collection, {"find"}
    if command_name == "insert":
        return collection, {"insert"}
    if command_name == "delete":
        return collection, {"remove"}
    if command_name == "createIndexes":
        return collection, {"createIndex"}
    if command_name == "update":
        upsert = any(u.get("upsert") for u in command.get("updates", []))
        return collection, {"update", *(["insert"] if upsert else [])}
    if command_name in ("findAndModify", "findandmodify"):
        if command.get("remove"):
            return collection, {"find", "remove"}
        return collection, {"find", "update", *(["insert"] if command.get("upsert") else [])}
    raise ValueError(f"unmapped MongoDB command {command_name!r}")
