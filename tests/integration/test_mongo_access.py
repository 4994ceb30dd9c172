"""One MongoDB user per function (issue 10): each function's commands stay within its role.

``secureface.adapters.mongo_access.PRIVILEGES`` is the role of each function. Two checks hold it:
- here, on every stack: each function records the command and collection of every MongoDB
  request it makes (``devstack.worker``); after driving every route (enrol, a verified login
  and its redemption, model download, failures up to a lock, re-enrolment, erasure), every
  recorded command must be covered by that function's role — and every grant must be used, or
  be listed below with why it is not — so the role is neither too small nor larger than the code;
- in GitHub Actions, where the ``mongo`` service enforces access control, the stack runs with a
  user per function (``SECUREFACE_TEST_MONGO_USERS``): MongoDB itself refuses anything else,
  and the tests at the end of this module show it refusing the crossings that matter.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from devstack.seed import demo_face_png
from livesim import bursts, people
from secureface.adapters.mongo_access import PRIVILEGES, command_actions, role_name
from secureface.client import AdminClient
from secureface.encoding import b64url_encode
from tests.helpers import client_for, models_session, start_login
from tests.integration.test_relying_party import customer, verified_login

pytestmark = pytest.mark.integration

#: Grants the driven routes need not exercise, and why they are granted.
UNEXERCISED = {
    # Fingerprints beyond the newest `keep` of one subject are deleted: needs more accepted
    # bursts of one person than a test makes.
    ("VerifyFunction", "accepted", "remove"),
}


def drive_every_route(stack: dict[str, Any]) -> None:
    """Enrol, log in (verified) and redeem, download a model, fail until locked, re-enrol and
    erase: every MongoDB access path of the four functions."""
    subject = customer(stack)  # POST /admin/enrollments
    login = verified_login(stack, subject)  # POST /v1/transactions, /session, /verify
    login.rp.redeem(login.transaction_id)  # GET /v1/transactions/{id}
    client = client_for(stack)
    manifest = client.fetch_manifest()
    session = models_session(client, stack)
    client.fetch_ranges(session, next(m for m in manifest.models if m.role == "detector"))
    failing = customer(stack)
    for take in range(5):  # another person's face, from one address: no_match five times
        login = start_login(stack, failing)
        person = client_for(stack, source_ip="127.0.2.1")
        session = person.open_session(login.token)
        burst = bursts.genuine_burst(
            people.group_face(1), session.transcript.challenge, seed=900 + take, screen_share=0.3
        )
        answer = person.verify(
            session, list(burst.frames), list(burst.times_ms), transaction_id=login.transaction_id
        )
        assert answer.decision == "not_verified"
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
            env.setenv(name, stack["env"][name])
        admin = AdminClient(stack["urls"]["api"])
        again = {"subject_id": subject, "images": [b64url_encode(demo_face_png())]}
        assert admin.call("POST", "/admin/enrollments", again)["version"] == 2  # re-enrolment
        admin.call("DELETE", f"/admin/enrollments/{subject}")


def used(stack: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """function -> collection -> actions, from the stack's command trace (its database only;
    commands any authenticated user may run are left out)."""
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for line in Path(stack["mongo_trace"]).read_text().splitlines():
        record = json.loads(line)
        command = {
            record["cmd"]: record["coll"],
            "upsert": record["upsert"],
            "remove": record["remove"],
            "updates": [{"upsert": record["upsert"]}],
        }
        collection, actions = command_actions(record["cmd"], command)
        if not actions:
            continue
        assert record["db"] == stack["mongo_db"], record  # no other database, ever
        seen[record["function"]][collection] |= actions
    return seen


@pytest.fixture(scope="module")
def trace(stack: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    drive_every_route(stack)
    time.sleep(0.5)  # the trace is line-buffered per process
    return used(stack)


def test_every_command_of_each_function_is_within_its_role(
    trace: dict[str, dict[str, set[str]]],
) -> None:
    assert set(trace) == set(PRIVILEGES), "a function made no MongoDB request"
    beyond = {
        (function, collection, action)
        for function, collections in trace.items()
        for collection, actions in collections.items()
        for action in actions
        if action not in PRIVILEGES[function].get(collection, ())
    }
    assert not beyond, f"commands outside the role: {sorted(beyond)}"


def test_every_grant_is_used_by_its_function(trace: dict[str, dict[str, set[str]]]) -> None:
    granted = {
        (function, collection, action)
        for function, collections in PRIVILEGES.items()
        for collection, actions in collections.items()
        for action in actions
    }
    used_ = {
        (function, collection, action)
        for function, collections in trace.items()
        for collection, actions in collections.items()
        for action in actions
    }
    assert granted - used_ == UNEXERCISED


def test_only_the_verify_function_touches_templates_attempts_and_accepted_bursts() -> None:
    """The finding: the model and key-exchange functions could read every face template."""
    for function, collections in PRIVILEGES.items():
        biometric = {"templates", "accepted", "attempts", "locks"} & set(collections)
        assert not biometric or function == "VerifyFunction", (function, biometric)
    assert set(PRIVILEGES["ModelFunction"]) == {"sessions"}
    assert set(PRIVILEGES["ModelFunction"]["sessions"]) <= {"find", "createIndex"}


# ------------------------------------------------------- a MongoDB that enforces access control

enforced = pytest.mark.skipif(
    not os.environ.get("SECUREFACE_TEST_MONGO_USERS"),
    reason="needs a MongoDB with access control (GitHub Actions' mongo service): the local wire "
    "server has no users; the trace tests above hold the roles there",
)


@enforced
def test_mongodb_refuses_each_function_what_its_role_does_not_grant(stack: dict[str, Any]) -> None:
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure

    uris = stack["function_mongo_uris"]
    assert set(uris) == set(PRIVILEGES)
    refused = {
        "ModelFunction": [("templates", "find"), ("sessions", "insert"), ("audit", "insert")],
        "KeyExchangeFunction": [
            ("templates", "find"),
            ("templates", "insert"),
            ("audit", "find"),
            ("sessions", "remove"),
        ],
        "TransactionsFunction": [("templates", "find"), ("sessions", "find")],
        "VerifyFunction": [("audit", "find"), ("transactions", "insert")],
    }
    for function, attempts in refused.items():
        client: MongoClient[dict[str, Any]] = MongoClient(uris[function])
        db = client[stack["mongo_db"]]
        try:
            for collection, action in attempts:
                target = db[collection]
                with pytest.raises(OperationFailure) as info:
                    if action == "find":
                        target.find_one({})
                    elif action == "insert":
                        target.insert_one({"probe": role_name(function)})
                    else:
                        target.delete_one({"_id": "no-such"})
                assert info.value.code == 13, (function, collection, action)  # Unauthorized
        finally:
            client.close()
