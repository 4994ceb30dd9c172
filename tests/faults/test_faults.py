"""Faults through the running local stack (issue 11): MongoDB or AWS (moto: S3, KMS, Secrets
Manager) stopped, hanging, slow, failing one chosen request, or restarted mid-run.

The functions reach their dependencies through fault proxies (``devstack up --faults``,
tools/faultproxy); the tests switch faults while the functions keep running, and check
directly in MongoDB what was kept. What must hold under every fault:

- the API answers ``503`` with the usual error body, from the function itself (well inside the
  function's timeout), never a ``500`` and never a hang; full service when the fault ends;
- a session is never usable twice, an enrollment is all or nothing and never unaudited, and
  an attempt whose audit or result write fails is not ``verified`` — no fault turns a refusal
  (or an undecided attempt) into ``verified``;
- the MongoDB server restarted on its data directory keeps templates, sessions, transactions
  and lockout counters.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from devstack.template import read_api
from secureface.client import ApiError
from tests.faults.conftest import (
    enroll,
    fault,
    live_request,
    person,
    post,
)
from tests.helpers import (
    LIVE_REFUSALS,
    audit_of,
    database,
    error_body,
    http,
    models_session,
    past_liveness,
    start_login,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
_seeds = count(7000)
#: The data commands a function's MongoDB requests can carry (the rest is the driver's own:
#: handshakes, pings, cursors, index creation at a cold start).
DATA_COMMANDS = {"find", "insert", "update", "delete", "findAndModify", "aggregate", "count"}


def timeout_of(function: str) -> float:
    """The function's timeout from ``template.yaml`` (what Lambda would stop it at)."""
    return float(read_api(REPO / "template.yaml").functions[function].timeout_s)


def assert_unavailable(status: int, body: bytes, seconds: float, function: str) -> None:
    """A ``503`` with the shared error body, answered by the function well before Lambda would
    have stopped it (a function that hangs until its timeout does not pass)."""
    assert status == 503, (status, body[:300])
    assert error_body(body)["code"] == "service_unavailable"
    assert seconds < timeout_of(function) - 1.0, f"{function} took {seconds:.1f}s"


def commands_of(stack: dict[str, Any], function: str, since: int) -> list[tuple[str, str]]:
    """The data commands ``function`` sent to MongoDB since trace line ``since``, in order."""
    lines = Path(stack["mongo_trace"]).read_text().splitlines()[since:]
    seen: list[tuple[str, str]] = []
    for record in map(json.loads, lines):
        step = (record["cmd"], record["coll"])
        if record["function"] == function and record["cmd"] in DATA_COMMANDS and step not in seen:
            seen.append(step)
    return seen


def trace_length(stack: dict[str, Any]) -> int:
    return len(Path(stack["mongo_trace"]).read_text().splitlines())


def start_body(stack: dict[str, Any], subject: str = "demo") -> tuple[bytes, dict[str, str]]:
    """A relying party's ``POST /v1/transactions`` body and its Basic credentials."""
    import base64

    party = stack["relying_parties"]["demo-bank"]
    basic = base64.b64encode(f"demo-bank:{party['client_secret']}".encode()).decode()
    body = {"subject": subject, "nonce": "n" * 22, "state": "s" * 16,
            "return_url": party["return_url"]}  # fmt: skip
    return json.dumps(body).encode(), {"Authorization": f"Basic {basic}"}


def session_body(stack: dict[str, Any], token: str) -> bytes:
    """A browser's ``POST /session`` body for ``token`` (a fresh ephemeral key)."""
    from secureface.sessions.exchange import new_client_hello

    _, _, hello = new_client_hello()
    return json.dumps({**hello, "client_token": token, "purpose": "verify"}).encode()


def pending_attempt(stack: dict[str, Any]) -> tuple[str, Any, Any, Any, bytes, Any]:
    """An enrolled person mid-login, before the fault: ``(subject, browser, login, its verify
    session, the live burst's request, a second login not yet opened)``."""
    subject = enroll(stack)
    client = person(stack)
    login = start_login(stack, subject)
    session = client.open_session(login.token)
    return (
        subject,
        client,
        login,
        session,
        live_request(login, session, next(_seeds)),
        (start_login(stack, subject)),
    )


# ------------------------------------------------------------------ MongoDB stopped / hanging


@pytest.mark.parametrize("mode", ["down", "hang"])
def test_mongodb_stopped_or_hanging_answers_503_in_time_and_service_returns(
    fault_stack: dict[str, Any], mode: str
) -> None:
    stack = fault_stack
    subject, client, login, session, request, later = pending_attempt(stack)
    with fault(stack, "mongo", mode=mode):
        body, credentials = start_body(stack, subject)
        assert_unavailable(
            *post(stack, "/v1/transactions", body, **credentials), "TransactionsFunction"
        )
        assert_unavailable(
            *post(stack, "/session", session_body(stack, later.token)), "KeyExchangeFunction"
        )
        assert_unavailable(*post(stack, "/verify", request), "VerifyFunction")
    # Service is back. A stopped server never saw the requests: the attempt is decided now and
    # the refused token still opens its session. A hanging one may apply a request it held
    # after the client gave up (a timed-out write has an unknown outcome): then the session
    # is used up, undecided, and the token may be too — never decided twice, never verified
    # without a decision.
    status, body, _ = post(stack, "/verify", request)
    if mode == "down" or status == 200:
        assert status == 200, body[:300]
        assert audit_of(stack, session.session_id) is not None
        assert client.open_session(later.token).session_id
    else:
        assert status == 401 and error_body(body)["code"] == "session_invalid"
        assert audit_of(stack, session.session_id) is None
        with pytest.raises(ApiError) as pending:
            login.result()
        assert pending.value.status == 409, pending.value.code


def test_mongodb_slow_but_answering_still_serves_every_route(
    fault_stack: dict[str, Any],
) -> None:
    """30 ms on every packet each way (a far region, a loaded cluster): the timeouts that cut a
    hanging database must not cut a slow one."""
    stack = fault_stack
    subject = enroll(stack)
    client = person(stack)
    with fault(stack, "mongo", mode="delay", delay_ms=30):
        login = start_login(stack, subject)
        session = client.open_session(login.token)
        status, body, seconds = post(stack, "/verify", live_request(login, session, next(_seeds)))
        assert status == 200, body[:300]
        manifest = client.fetch_manifest()
        detector = next(m for m in manifest.models if m.role == "detector")
        assert client.fetch_model(models_session(client, stack), detector)
    assert audit_of(stack, session.session_id) is not None
    print(f"/verify with MongoDB 30 ms slower per packet: {seconds:.2f}s")


# ------------------------------------------------------------------ AWS stopped / hanging


@pytest.mark.parametrize("mode", ["down", "hang"])
def test_aws_stopped_or_hanging_answers_503_in_time_and_nothing_is_decided_twice(
    fault_stack: dict[str, Any], mode: str
) -> None:
    """KMS, S3 and Secrets Manager gone. A burst cannot be decided (its result token is signed
    by KMS for every attempt): ``503`` in time; its session, taken first, stays used up and
    nothing is redeemable; once AWS is back a new attempt is decided. A session may still
    open (the key exchange holds a data key and a delegation for a while: one KMS call per
    instance and hour, not per session) — or, when it needs KMS, ``503`` with nothing used
    up: no session stored, the token still usable."""
    stack = fault_stack
    subject, client, login, _session, request, later = pending_attempt(stack)
    sessions_before = database(stack)["sessions"].count_documents({})
    with fault(stack, "aws", mode=mode):
        status, body, seconds = post(stack, "/session", session_body(stack, later.token))
        if status != 200:
            assert_unavailable(status, body, seconds, "KeyExchangeFunction")
        assert seconds < timeout_of("KeyExchangeFunction") - 1.0
        assert_unavailable(*post(stack, "/verify", request), "VerifyFunction")
    if status == 503:
        assert database(stack)["sessions"].count_documents({}) == sessions_before
        assert client.open_session(later.token).session_id
    # The refused attempt's session was taken before KMS failed: used once, never decided
    # (the relying party has nothing to redeem); a new attempt is decided.
    retry, body, _ = post(stack, "/verify", request)
    assert retry == 401 and error_body(body)["code"] == "session_invalid", body[:300]
    with pytest.raises(ApiError) as pending:
        login.result()
    assert pending.value.status == 409, pending.value.code
    again = start_login(stack, subject)
    fresh = client.open_session(again.token)
    decided, body, _ = post(stack, "/verify", live_request(again, fresh, next(_seeds)))
    assert decided == 200, body[:300]
    assert audit_of(stack, fresh.session_id) is not None


# ------------------------------------------------------------------ one step failing


def _verify_steps(stack: dict[str, Any]) -> list[tuple[str, str]]:
    """The MongoDB requests of one ``verified`` ``/verify``, as the verify function makes them
    (a live attempt refused by liveness makes fewer: it is tried again, as a person would)."""

    def attempt() -> tuple[str, str, list[tuple[str, str]]]:
        login = start_login(stack, enroll(stack))
        session = person(stack).open_session(login.token)
        request = live_request(login, session, next(_seeds))
        since = trace_length(stack)
        status, body, _ = post(stack, "/verify", request)
        assert status == 200, body[:300]
        audited = audit_of(stack, session.session_id)
        assert audited is not None
        return audited["decision"], session.session_id, commands_of(stack, "VerifyFunction", since)

    decision, _, steps = past_liveness(stack, attempt, lambda done: (done[0], done[1]))
    assert decision == "verified", decision
    assert ("insert", "audit") in steps and ("findAndModify", "sessions") in steps, steps
    return steps


def test_no_failing_step_of_verify_turns_into_verified_or_reuses_a_session(
    fault_stack: dict[str, Any],
) -> None:
    """Each MongoDB request of ``/verify`` in turn fails (its connection dropped before the
    server sees it) while a live, enrolled person sends a burst that is verified without the
    fault. Whatever the step, the answer is ``503`` or a decision that is not ``verified``; the
    same request sent again after the fault is decided at most once in all; every decided
    attempt is audited; and the relying party never redeems ``verified`` for an attempt that
    was not answered ``verified`` with its audit record written."""
    stack = fault_stack
    steps = _verify_steps(stack)
    print(f"/verify makes {len(steps)} kinds of MongoDB request: {steps}")
    for step in steps:
        # A step after the liveness check is reached only if liveness passes the live person,
        # which it does not always (the false refusal rate is not zero): then again.
        landed = any(_verify_with_a_failing_step(stack, step) for _ in range(3))
        assert landed, f"the fault on {step} did not land in three attempts"


def _verify_with_a_failing_step(stack: dict[str, Any], step: tuple[str, str]) -> bool:
    """One live attempt with ``step`` failing, checked; whether the fault landed (if not, the
    attempt was refused by liveness before it reached the step, and it is checked as such)."""
    subject = enroll(stack)
    login = start_login(stack, subject)
    session = person(stack).open_session(login.token)
    request = live_request(login, session, next(_seeds))
    with fault(stack, "mongo", drop=[list(step)]) as proxy:
        status, body, seconds = post(stack, "/verify", request)
    landed = [list(step)] == proxy["dropped"][:1]
    if status == 200:
        answer = json.loads(body)
        assert "ciphertext" in answer  # sealed; its decision is read from the audit
        audited = audit_of(stack, session.session_id)
        assert audited is not None, f"{step}: a decided attempt without audit"
        assert audited["decision"] != "verified", f"{step}: verified under a fault"
        assert landed or audited["reason"] in LIVE_REFUSALS, (step, audited["reason"])
    else:
        assert landed, (step, status, body[:300])
        assert_unavailable(status, body, seconds, "VerifyFunction")
    retries = [post(stack, "/verify", request)[0] for _ in range(2)]
    decided = [s for s in [status, *retries] if s == 200]
    assert len(decided) <= 1, f"{step}: one session decided {len(decided)} times"
    assert all(s in (200, 401) for s in retries), (step, retries)
    audited = audit_of(stack, session.session_id)
    try:
        result = login.result(accept=("verified", "not_verified", "locked"))
    except ApiError as exc:  # not decided: nothing to redeem (pending)
        assert exc.status in (409, 410), (step, exc.status, exc.code)
        return landed
    if result.decision == "verified":
        # Verified only by a retry that ran without the fault, fully audited.
        assert status != 200 and 200 in retries, step
        assert audited is not None and audited["decision"] == "verified", step
    return landed


def test_no_failing_step_of_enrollment_leaves_a_template_unaudited_or_half_written(
    fault_stack: dict[str, Any],
) -> None:
    """Each MongoDB request of an enrollment (here a re-enrollment, the harder case) fails in
    turn: the answer is ``503``, and afterwards either the template is the new version and its
    enrollment is audited, or it is the old one unchanged."""
    stack = fault_stack
    subject = enroll(stack)
    templates = database(stack)["templates"]
    since = trace_length(stack)
    enroll(stack, subject)  # version 2
    steps = commands_of(stack, "VerifyFunction", since)
    assert ("insert", "audit") in steps, steps
    for step in steps:
        before = templates.find_one({"_id": subject})
        assert before is not None
        with (
            fault(stack, "mongo", drop=[list(step)]) as proxy,
            pytest.raises(ApiError) as refused,
        ):
            enroll(stack, subject)
        assert [list(step)] == proxy["dropped"][:1], f"the fault on {step} did not land"
        assert refused.value.status == 503, (step, refused.value.status)
        after = templates.find_one({"_id": subject})
        assert after is not None, f"{step}: the template is gone"
        if after["version"] != before["version"]:
            assert after["version"] == before["version"] + 1
            audited = database(stack)["audit"].find_one(
                {"kind": "enroll", "subject_id": subject, "version": after["version"]}
            )
            assert audited is not None, f"{step}: version {after['version']} was not audited"
        else:
            assert after == before, f"{step}: the template changed without a new version"


def test_no_failing_step_of_the_key_exchange_uses_up_the_client_token(
    fault_stack: dict[str, Any],
) -> None:
    """Each MongoDB request of ``POST /session`` fails in turn: ``503``, and the relying
    party's client token then still opens its verify session (nothing half-written: no token
    used up by a session that was never stored)."""
    stack = fault_stack
    since = trace_length(stack)
    person(stack).open_session(start_login(stack).token)
    steps = commands_of(stack, "KeyExchangeFunction", since)
    assert ("insert", "sessions") in steps, steps
    for step in steps:
        login = start_login(stack)
        with fault(stack, "mongo", drop=[list(step)]) as proxy:
            outcome = post(stack, "/session", session_body(stack, login.token))
        assert [list(step)] == proxy["dropped"][:1], f"the fault on {step} did not land"
        assert_unavailable(*outcome, "KeyExchangeFunction")
        assert person(stack).open_session(login.token).session_id, step


# ------------------------------------------------------------------ restart on the data dir


@pytest.mark.parametrize("kill", [False, True], ids=["stopped", "crashed"])
def test_mongodb_restarted_on_its_data_keeps_templates_sessions_and_counters(
    fault_stack: dict[str, Any], kill: bool
) -> None:
    """The MongoDB server stopped (SIGTERM) or crashed (SIGKILL) and started again on its data
    directory: every document is still there — templates, a session opened before and used
    after, transactions, a lockout counter, the audit — and the session still works."""
    stack = fault_stack
    db = database(stack)
    subject = enroll(stack)
    stranger = person(stack)  # another person's face: a failure counted for the subject
    failed = start_login(stack, subject)
    attempt = stranger.open_session(failed.token)
    status, _, _ = post(stack, "/verify", live_request(failed, attempt, next(_seeds), other=True))
    assert status == 200 and audit_of(stack, attempt.session_id)["reason"] != "ok"
    login = start_login(stack, subject)
    session = person(stack).open_session(login.token)  # opened before, used after
    request = live_request(login, session, next(_seeds))
    before = snapshot(db)
    assert any(subject in str(doc) for doc in before["attempts"].values())
    restart(stack, kill=kill)
    after = snapshot(db)
    # The server deletes expired documents lazily (TTL indexes): one due by now may be gone from
    # either snapshot, or from neither. Every other document must be exactly as it was.
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the driver's naive UTC
    assert unexpired(after, now) == unexpired(before, now)
    assert session.session_id in after["sessions"] and login.transaction_id in after["transactions"]
    assert any(subject in str(doc) for doc in after["attempts"].values())
    assert subject in after["templates"]
    status, body, _ = post(stack, "/verify", request)
    if status == 503:
        # The local server is a standalone: the driver retries no write there (on Atlas, a
        # replica set, it retries once), and a pooled connection idle for under a second is
        # not checked before use; so the first write on a connection the restart closed may
        # fail. That refusal must lose nothing: the session is still unused and works.
        assert error_body(body)["code"] == "service_unavailable", body[:300]
        assert db["sessions"].find_one({"_id": session.session_id})["used"] is False
        status, body, _ = post(stack, "/verify", request)
    assert status == 200, body[:300]
    assert audit_of(stack, session.session_id) is not None


COLLECTIONS = ("templates", "sessions", "transactions", "attempts", "locks", "audit", "accepted")


def snapshot(db: Any) -> dict[str, dict[str, Any]]:
    """Every document of every collection, by ``_id`` (retrying while MongoDB starts)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return {n: {str(d["_id"]): d for d in db[n].find({})} for n in COLLECTIONS}
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def unexpired(snap: dict[str, dict[str, Any]], now: dt.datetime) -> dict[str, dict[str, Any]]:
    """``snap`` without the documents whose ``expire_at`` (TTL) has passed at ``now``."""

    def due(doc: dict[str, Any]) -> bool:
        when = doc.get("expire_at")
        if isinstance(when, str):  # the local wire server returns some dates it stored as text
            when = dt.datetime.fromisoformat(when)
        return when is not None and when <= now

    return {name: {k: d for k, d in docs.items() if not due(d)} for name, docs in snap.items()}


def restart(stack: dict[str, Any], *, kill: bool) -> None:
    """Restart the stack's MongoDB server on its data directory (skip on an external one)."""
    status, _, body = http(
        "POST", f"{stack['faults']}/mongo/restart", body=json.dumps({"kill": kill}).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    if status == 409:
        pytest.skip(json.loads(body)["message"])
    assert status == 200, body
