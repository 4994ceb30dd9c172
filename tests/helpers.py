"""Small HTTP helpers for tests that talk to the running local stack (127.0.0.1 only)."""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import boto3

from devstack.clients import Login, bank, browser, pinned, start_login
from secureface.client import SecureFaceClient
from secureface.models.layout import model_key
from secureface.sessions.exchange import ClientSession
from secureface.verify.answer import VerifyAnswer

__all__ = ["Login", "start_login"]  # re-exported: the tests' logins are devstack's

T = TypeVar("T")


def http(
    method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request; returns status, lower-cased headers and body (errors included)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def error_body(body: bytes) -> dict[str, Any]:
    """Parse an error body and check it has exactly the shared shape."""
    parsed = json.loads(body)
    assert set(parsed) == {"statusCode", "code", "message"}, parsed
    return dict(parsed)


def pinned_spki(stack: dict[str, Any], which: str = "public_key_pem") -> bytes:
    """The stack's server key (sessions), or with ``which="manifest_public_key_pem"`` its
    manifest key, as DER SPKI."""
    return pinned(stack[which])


def client_for(
    stack: dict[str, Any], state_file: Path | None = None, source_ip: str = ""
) -> SecureFaceClient:
    """A client pinned to the stack's two keys, as a browser configured by it is, straight on
    the API."""
    return browser(stack, source_ip, origin="api", state_file=state_file)


def s3_client(stack: dict[str, Any]) -> Any:
    """A boto3 S3 client on the stack's moto server."""
    env = stack["env"]
    return boto3.client(
        "s3",
        endpoint_url=stack["urls"]["aws"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def replace_stored_model(
    stack: dict[str, Any], name: str = "yunet", version: str = "2023mar"
) -> None:
    """The storage attack: overwrite a published model's object with other bytes (SSE-KMS as
    the real objects), leaving the signed manifest as it was."""
    s3_client(stack).put_object(
        Bucket=stack["model_bucket"],
        Key=model_key(name, version),
        Body=b"\x08" * 241169,
        ServerSideEncryption="aws:kms",
    )


def database(stack: dict[str, Any]) -> Any:
    """The stack's MongoDB database (its own one when several stacks share a server)."""
    return _mongo(stack["urls"]["mongo"])[stack["mongo_db"]]


@functools.cache
def _mongo(uri: str) -> Any:
    """One client per server for the whole run (a client holds a pool and a monitor thread)."""
    from pymongo import MongoClient

    return MongoClient(uri)


#: A relying party's backend registered in the local stack (devstack.clients.bank).
relying_party = bank


def models_session(client: SecureFaceClient, stack: dict[str, Any]) -> ClientSession:
    """A model-download session under a fresh transaction."""
    return client.open_session(start_login(stack).token, purpose="models")


#: The liveness rules a live person's burst has been seen to trip: the false refusal rate is not
#: zero (docs/BENCHMARKS.md, "BPCER", names them). Any other refusal of a live person — a rule
#: never measured to refuse one, ``timing``, a decision past liveness (``replayed``,
#: ``no_match``) or before it (``locked``) — would be a regression, never retried.
LIVE_REFUSALS = frozenset({
    "light_not_reflected", "moves_not_followed", "multiple_faces", "identity_changed", "flat",
})  # fmt: skip


def audit_of(stack: dict[str, Any], session_id: str) -> dict[str, Any] | None:
    """The audit record of the attempt of ``session_id`` (None if none was written)."""
    found = database(stack)["audit"].find_one({"session_id": session_id})
    return None if found is None else dict(found)


def audited_reason(stack: dict[str, Any], session_id: str) -> str:
    """The reason the server audited for the attempt of ``session_id``."""
    record = audit_of(stack, session_id)
    assert record is not None, f"no audit record for {session_id}"
    return str(record["reason"])


def past_liveness(
    stack: dict[str, Any],
    attempt: Callable[[], T],
    outcome: Callable[[T], tuple[str, str]],
    discard: Callable[[T], None] = lambda _: None,
) -> T:
    """``attempt()`` — a new transaction and session each call, so a new random challenge —
    again while liveness refuses the live person in it (as a person would try again), at most
    three times. ``outcome`` gives an attempt's decision and session id; ``discard`` cleans up
    a refused one. Returns the first attempt that was not such a refusal, for the caller to
    assert on: only :data:`LIVE_REFUSALS` are retried, and each retry is printed."""
    refused = []
    for _ in range(3):
        result = attempt()
        decision, session_id = outcome(result)
        if decision != "not_verified":
            return result
        reason = audited_reason(stack, session_id)
        if reason not in LIVE_REFUSALS:
            return result
        print(f"a live person refused by liveness ({reason}): trying again")
        refused.append(reason)
        discard(result)
    raise AssertionError(f"a live person refused three times by liveness: {refused}")


def decided(answer: VerifyAnswer) -> tuple[str, str]:
    """A verify answer's decision and session id (:func:`past_liveness`'s ``outcome``)."""
    return answer.decision, answer.session_id


def clear_lockout(stack: dict[str, Any], *keys: str) -> None:
    """Forget the lockout's counters and locks of ``keys`` (``client:<address>``,
    ``subject:<id>``): for tests that must share a client or subject with earlier tests."""
    db = database(stack)
    for collection in ("attempts", "locks"):
        db[collection].delete_many({"_id": {"$in": list(keys)}})
