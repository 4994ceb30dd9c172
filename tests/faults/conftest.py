"""A private stack whose functions reach MongoDB and moto through fault proxies
(``devstack up --faults``; tools/faultproxy), and the helpers the fault tests share."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest

from devstack.seed import demo_face_png
from livesim import bursts, people
from secureface.client import AdminClient, SecureFaceClient
from secureface.encoding import b64url_encode
from secureface.sessions.sealed import REQUEST_LABEL, seal_message
from secureface.transactions.model import CONSENT_NOTICE
from secureface.verify.request import Consent, encode_payload
from tests.conftest import launch_stack
from tests.helpers import Login, client_for, http

_addresses = count(10)
_people = count(1)


@pytest.fixture(scope="package")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with launch_stack(tmp_path_factory.mktemp("faults"), "--faults") as info:
        assert info["faults"], "devstack did not start its fault proxies"
        yield info


def set_fault(stack: dict[str, Any], target: str, **fault: Any) -> dict[str, Any]:
    """Switch the proxy in front of ``target`` (``mongo`` or ``aws``); returns its state."""
    status, _, body = http(
        "POST", f"{stack['faults']}/faults/{target}", body=json.dumps(fault).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 200, body
    return dict(json.loads(body))


@contextlib.contextmanager
def fault(stack: dict[str, Any], target: str, **spec: Any) -> Iterator[dict[str, Any]]:
    """``spec`` in force inside the block (counters reset), ``pass`` again after it, even when
    the block fails; yields a dict that holds the proxy's final state after the block."""
    final: dict[str, Any] = {}
    set_fault(stack, target, reset_counters=True, **spec)
    try:
        yield final
    finally:
        status, _, body = http("GET", f"{stack['faults']}/faults")
        final.update(json.loads(body)[target] if status == 200 else {})
        set_fault(stack, target, mode="pass")


def person(stack: dict[str, Any]) -> SecureFaceClient:
    """A browser with a source address of its own (the lockout is per client too)."""
    return client_for(stack, source_ip=f"127.0.3.{next(_addresses) % 250 + 1}")


def enroll(stack: dict[str, Any], subject: str = "") -> str:
    """Enroll a new person (the astronaut) through the admin route; returns the subject."""
    subject = subject or f"fault-{next(_people)}-{time.time_ns()}"
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
            env.setenv(name, stack["env"][name])
        AdminClient(stack["urls"]["api"], timeout_s=60).call(
            "POST", "/admin/enrollments",
            {"subject_id": subject, "images": [b64url_encode(demo_face_png())]},
        )  # fmt: skip
    return subject


def live_request(login: Login, session: Any, seed: int, *, other: bool = False) -> bytes:
    """The hosted page's ``POST /verify`` body: a live burst for this session's challenge
    (the astronaut, lit by this session's colours; with ``other``, another live person),
    sealed under its request key."""
    face = people.group_face(1) if other else people.astronaut()
    burst = bursts.genuine_burst(face, session.transcript.challenge, seed=seed, screen_share=0.3)
    consent = Consent(CONSENT_NOTICE, "en", int(time.time() * 1000), login.transaction_id)
    payload = encode_payload(list(burst.frames), list(burst.times_ms), consent)
    sealed = seal_message(session.keys.request, REQUEST_LABEL, session.session_id, payload)
    return json.dumps({"session_id": session.session_id, **sealed}).encode()


def post(stack: dict[str, Any], path: str, body: bytes, **headers: str) -> tuple[int, bytes, float]:
    """One request to the API from an address of its own (the lockout counts failures per
    client: the attempts a fault leaves undecided must not lock the tests' own address);
    returns status, body and the seconds it took."""
    import http.client
    from urllib.parse import urlsplit

    api = urlsplit(stack["urls"]["api"])
    source = (f"127.0.4.{next(_addresses) % 250 + 1}", 0)
    connection = http.client.HTTPConnection(
        api.hostname, api.port, timeout=60, source_address=source
    )
    started = time.monotonic()
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return response.status, response.read(), time.monotonic() - started
    finally:
        connection.close()
