"""``/verify`` through the local API (the same handlers, payload v2 events, one process per
function instance), and the verify function's cold start.

* warm latency: genuine bursts (about 70 frames, tools/livesim) for the ``demo`` subject, each
  with its own session (the key exchange is not counted), p50 / p99 over :data:`RUNS` requests;
  baseline in the same run: the liveness check of the same burst in this process, 2 threads
  (what the function does besides transport, crypto, MongoDB and audit);
* cold start: a new verify-function process, from spawn to the first answer with its three
  models loaded from the verified manifest (a request with an unknown session: the models load
  before the session is looked up); baseline: a new key-exchange-function process.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from devstack.clients import browser, start_login
from devstack.functions import REPO, FunctionPool
from devstack.launch import launch_stack
from devstack.template import read_api
from facesynth.models import face_engine
from livesim import bursts, people
from secureface.verify.burst import assess_burst

Row = tuple[str, str, str, str]
RUNS = 30


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def warm_latency(info: dict[str, Any]) -> Row:
    client = browser(info)
    samples, last, verified = [], None, 0
    for i in range(RUNS + 2):
        login = start_login(info)
        session = client.open_session(login.token)
        challenge = session.transcript.challenge
        burst = bursts.genuine_burst(people.astronaut(), challenge, seed=i, screen_share=0.3)
        start = time.perf_counter()
        answer = client.verify(
            session, list(burst.frames), list(burst.times_ms), transaction_id=login.transaction_id
        )
        elapsed = (time.perf_counter() - start) * 1000
        verified += answer.decision == "verified"
        if i >= 2:
            samples.append(elapsed)
        last = (challenge, burst)
    assert last is not None
    engine, (challenge, burst) = face_engine(), last
    local = []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(10):
            start = time.perf_counter()
            assess_burst(engine, challenge, burst.frames, burst.times_ms, mapper=pool.map)
            local.append((time.perf_counter() - start) * 1000)
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
    return (
        f"/verify, a {len(burst.frames)}-frame burst, warm, through the local API (n={RUNS})",
        f"p50 {p50:.0f} ms / p99 {p99:.0f} ms",
        "≤ 300 / ≤ 600 ms",
        f"the liveness check alone, in-process: {statistics.median(local):.0f} ms;"
        f" {verified}/{RUNS + 2} verified",
    )


def cold_start(info: dict[str, Any]) -> Row:
    spec = read_api(REPO / "template.yaml")
    env = {**info["env"], "PATH": "/usr/bin:/bin"}
    logs = Path(tempfile.mkdtemp())
    event = {
        "version": "2.0", "routeKey": "POST /verify", "rawPath": "/verify", "rawQueryString": "",
        "headers": {"content-type": "application/json"}, "isBase64Encoded": False,
        "body": '{"session_id": "AAAAAAAAAAAAAAAAAAAAAA", "nonce": "", "ciphertext": ""}',
        "requestContext": {"http": {"method": "POST", "path": "/verify", "sourceIp": "127.0.0.1"},
                           "requestId": "bench", "routeKey": "POST /verify", "stage": "$default"},
    }  # fmt: skip

    def first_answer(function: str, request: dict[str, Any]) -> float:
        pool = FunctionPool(spec.functions[function], env, logs, max_instances=1)
        start = time.perf_counter()
        answer = pool.invoke(request)
        elapsed = time.perf_counter() - start
        pool.close()
        assert answer.get("statusCode") in (401, 404), answer
        return elapsed

    verify_s = statistics.median(first_answer("VerifyFunction", event) for _ in range(3))
    other = dict(event, routeKey="$default", rawPath="/nope")
    keyexchange_s = statistics.median(first_answer("KeyExchangeFunction", other) for _ in range(3))
    return (
        "verify function cold start (spawn → first answer, models loaded)",
        f"{verify_s:.2f} s",
        "≤ 2 s",
        f"key-exchange function (no models): {keyexchange_s:.2f} s",
    )


def relying_party_calls(info: dict[str, Any]) -> Row:
    """A relying party's two calls (start, redeem) against the manifest read, same stack."""
    client = browser(info)
    start_ms, redeem_ms, manifest_ms = [], [], []
    for i in range(RUNS + 2):
        t0 = time.perf_counter()
        login = start_login(info)
        t1 = time.perf_counter()
        session = client.open_session(login.token)
        burst = bursts.genuine_burst(
            people.astronaut(), session.transcript.challenge, seed=100 + i, screen_share=0.3
        )
        client.verify(
            session, list(burst.frames), list(burst.times_ms), transaction_id=login.transaction_id
        )
        t2 = time.perf_counter()
        login.rp.redeem(login.transaction_id)
        t3 = time.perf_counter()
        client.request("GET", "/models/manifest")
        t4 = time.perf_counter()
        if i >= 2:
            start_ms.append((t1 - t0) * 1000)
            redeem_ms.append((t3 - t2) * 1000)
            manifest_ms.append((t4 - t3) * 1000)
    median = statistics.median
    return (
        f"relying party: POST /v1/transactions / GET /v1/transactions/{{id}} (n={RUNS})",
        f"p50 {median(start_ms):.0f} / {median(redeem_ms):.0f} ms,"
        f" p99 {percentile(start_ms, 0.99):.0f} / {percentile(redeem_ms, 0.99):.0f} ms",
        "≤ 100 ms p50",
        f"GET /models/manifest p50 {median(manifest_ms):.0f} ms"
        f" (ratio {median(start_ms) / median(manifest_ms):.1f} / "
        f"{median(redeem_ms) / median(manifest_ms):.1f})",
    )


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as state, launch_stack(Path(state)) as info:
        return [warm_latency(info), relying_party_calls(info), cold_start(info)]
