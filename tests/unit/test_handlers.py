"""The four Lambda handlers in-process, driven by API Gateway payload-v2 events (``tests/events/``,
the Powertools pattern), over their real use cases built on in-memory fakes.

What this layer checks that the use-case tests do not: each route of the table reaches its
handler, handlers translate HTTP to typed arguments (headers, query, body limits) and back (status,
content type, binary bodies, security headers), every error maps to its status and error body,
an unexpected exception is a bare 500 that leaks nothing, and the hourly schedule is answered.
Everything through the running stack is in ``tests/integration``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from devstack.worker import Context
from facesynth.models import face_engine
from secureface import runtime
from secureface.api.routes import ROUTES
from secureface.crypto.delegation import DelegatedSigner
from secureface.crypto.ecdsa import load_public_key
from secureface.crypto.envelope import EnvelopeCipher
from secureface.crypto.stream import HEADER_LEN, StreamOpener
from secureface.errors import ConfigurationError, StoreUnavailableError
from secureface.models.delivery import ModelDelivery
from secureface.models.layout import MANIFEST_KEY, model_key
from secureface.models.manifest import ModelEntry, build_manifest, sign_manifest
from secureface.models.segments import SEGMENT_SIZE, stream_id
from secureface.models.service import ModelService
from secureface.sessions.exchange import finish_exchange_at, new_client_hello
from secureface.sessions.records import session_aad
from secureface.sessions.service import KeyExchangeService, SessionVault
from secureface.transactions.registry import Registry
from secureface.transactions.service import TransactionService
from secureface.verify.service import VerifyService
from tests.fakes import (
    AUTHORIZATION,
    REGISTRY,
    RETURN_URL,
    LocalResultSigner,
    LocalSigner,
    MemoryAccepted,
    MemoryAttempts,
    MemoryAudit,
    MemorySecret,
    MemorySessions,
    MemoryStore,
    MemoryTemplates,
    MemoryTransactions,
    PlainDataKeys,
)

# Powertools warns when an answer published no metric (most error paths here).
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
#: The event file of each route of the table (``tests/events/<name>.json``).
EVENT_OF = {
    ("POST", "/session"): "post_session",
    ("GET", "/models/manifest"): "get_manifest",
    ("GET", "/models/{name}/{version}/segments"): "get_segments",
    ("POST", "/verify"): "post_verify",
    ("POST", "/admin/enrollments"): "post_enrollment",
    ("DELETE", "/admin/enrollments/{subject}"): "delete_enrollment",
    ("POST", "/v1/transactions"): "post_transaction",
    ("GET", "/v1/transactions/{transaction_id}"): "get_transaction",
    ("POST", "/v1/flow"): "post_flow",
    ("GET", "/.well-known/jwks.json"): "get_jwks",
}
MODEL = b"\x07" * (SEGMENT_SIZE + 1000)  # two segments


def event(name: str, **changes: Any) -> dict[str, Any]:
    """A stored event with ``body`` (a dict is JSON-encoded), ``headers`` (added),
    ``query`` and ``path`` (with its path parameters) replaced."""
    e: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    if "body" in changes:
        body = changes["body"]
        e["body"] = body if isinstance(body, str) else json.dumps(body)
    e["headers"].update(changes.get("headers", {}))
    if "query" in changes:
        e["queryStringParameters"] = changes["query"]
        e["rawQueryString"] = "&".join(f"{k}={v}" for k, v in changes["query"].items())
    if "path" in changes:
        path, params = changes["path"]
        e["rawPath"] = e["requestContext"]["http"]["path"] = path
        e["pathParameters"] = params
    return e


def load_handler(function: str) -> ModuleType:
    """``functions/<function>/app.py`` as the Lambda runtime loads it (under its own name)."""
    name = f"_handler_{function}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "functions" / function / "app.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@dataclass
class World:
    """The use cases over in-memory fakes, as runtime.py would wire them."""

    root: LocalSigner
    sessions: MemorySessions
    transactions: MemoryTransactions
    audit: MemoryAudit
    store: MemoryStore
    key_exchange: KeyExchangeService
    models: ModelService
    rp: TransactionService
    result_signer: LocalResultSigner
    entry: ModelEntry

    def invoke(self, function: str, e: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = load_handler(function).lambda_handler(
            e, Context(function, 512, 30)
        )
        return response

    def start(self) -> dict[str, Any]:
        """A relying party's transaction (through its own handler)."""
        body = {"subject": "alice", "nonce": "n" * 24, "return_url": RETURN_URL, "state": "s"}
        e = event("post_transaction", body=body, headers={"authorization": AUTHORIZATION})
        answer = self.invoke("transactions", e)
        assert answer["statusCode"] == 201, answer
        started: dict[str, Any] = json.loads(answer["body"])
        return started

    def open_session(self, purpose: str = "models") -> tuple[str, bytes]:
        """A session opened through the key-exchange handler: its id and model key."""
        key, nonce, hello = new_client_hello()
        body = {**hello, "client_token": self.start()["client_token"], "purpose": purpose}
        answer = self.invoke("keyexchange", event("post_session", body=body))
        assert answer["statusCode"] == 200, answer
        session = finish_exchange_at(
            json.loads(answer["body"]), key, nonce, load_public_key(self.root.public_key_der()),
            now=int(time.time()),
        )  # fmt: skip
        return session.session_id, session.keys.model


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for name, value in {
        "POWERTOOLS_SERVICE_NAME": "secureface", "POWERTOOLS_METRICS_NAMESPACE": "SecureFace",
        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    now = int(time.time())
    root, store = LocalSigner(), MemoryStore()
    entry = ModelEntry(
        "yunet", "2023mar", "detector", hashlib.sha256(MODEL).hexdigest(), len(MODEL)
    )
    store.put(model_key(entry.name, entry.version), MODEL, {"sha256": entry.sha256})
    token = sign_manifest(build_manifest(3, [entry], now=now, ttl_s=3600), root.sign, kid="kid")
    store.put(MANIFEST_KEY, token.encode(), {})
    public = load_public_key(root.public_key_der())
    sessions, transactions, audit = MemorySessions(), MemoryTransactions(), MemoryAudit()
    vault = SessionVault(sessions, EnvelopeCipher(PlainDataKeys()))
    signer = DelegatedSigner(root.sign, root.public_key_der)
    rp = TransactionService(store=transactions, registry=Registry(MemorySecret(REGISTRY)),
                            audit=audit, frontend_url="https://face.example")  # fmt: skip
    w = World(
        root=root, sessions=sessions, transactions=transactions, audit=audit, store=store,
        key_exchange=KeyExchangeService(signer, vault, transactions),
        models=ModelService(ModelDelivery(store, lambda: public, min_version=3), lambda: vault),
        rp=rp, result_signer=LocalResultSigner(), entry=entry,
    )  # fmt: skip
    monkeypatch.setattr(runtime, "key_exchange_service", lambda: w.key_exchange)
    monkeypatch.setattr(runtime, "model_service", lambda: w.models)
    monkeypatch.setattr(runtime, "transaction_service", lambda: w.rp)
    monkeypatch.setattr(runtime, "result_jwks", w.result_signer.jwks)
    verify = VerifyService(
        sessions=vault, biometrics=EnvelopeCipher(PlainDataKeys()), transactions=transactions,
        result_signer=w.result_signer, issuer="https://face.example", templates=MemoryTemplates(),
        attempts=MemoryAttempts(), audit=audit, accepted=MemoryAccepted(), engine=face_engine(),
        models={"detector": "d/1", "embedding": "e/1", "antispoof": "a/1"},
    )  # fmt: skip
    monkeypatch.setattr(runtime, "verify_service", lambda: verify)
    monkeypatch.setattr(runtime, "edge_token", lambda: "")
    yield w


def error_of(response: dict[str, Any]) -> str:
    body = json.loads(response["body"])
    assert (
        set(body) == {"statusCode", "code", "message"}
        and body["statusCode"] == response["statusCode"]
    )
    return str(body["code"])


def test_every_route_of_the_table_has_an_event_and_reaches_its_handler(world: World) -> None:
    """Each stored event, as API Gateway sends it, is answered by its function's handler and
    not by the resolver's 404 or 405 (what a route missing from a handler gets)."""
    assert set(EVENT_OF) == {(r.method, r.path) for r in ROUTES}
    for route in ROUTES:
        e = event(EVENT_OF[(route.method, route.path)])
        assert e["routeKey"] == f"{route.method} {route.path}"
        answer = world.invoke(route.function, e)
        assert answer["statusCode"] not in (404, 405), (route, answer)


def test_a_session_opens_through_the_handler_and_the_client_checks_its_transcript(
    world: World,
) -> None:
    session_id, model_key_bytes = world.open_session()
    assert world.sessions.get(session_id) is not None and len(model_key_bytes) == 32


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "bad_request"),
        ("[]", 400, "bad_request"),
        ({"client_token": "x"}, 400, "bad_request"),
        ("{" + " " * 5000 + "}", 413, "payload_too_large"),
    ],
    ids=["not-json", "not-an-object", "no-hello", "oversized"],
)
def test_a_bad_key_exchange_is_a_4xx_with_an_error_body(
    world: World, body: Any, status: int, code: str
) -> None:
    answer = world.invoke("keyexchange", event("post_session", body=body))
    assert answer["statusCode"] == status and error_of(answer) == code


def test_an_unknown_path_is_404_and_a_known_path_with_another_method_405(world: World) -> None:
    answer = world.invoke("keyexchange", event("default_route"))
    assert answer["statusCode"] == 404 and error_of(answer) == "not_found"
    wrong = event("default_route", path=("/session", None))
    wrong["requestContext"]["http"]["method"] = "GET"
    answer = world.invoke("keyexchange", wrong)
    assert answer["statusCode"] == 405 and error_of(answer) == "method_not_allowed"
    assert answer["headers"]["Allow"] == "POST"


def test_the_manifest_is_served_as_published(world: World) -> None:
    answer = world.invoke("model", event("get_manifest"))
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {
        "format": "jws-compact", "manifest": world.store.get(MANIFEST_KEY).decode()  # type: ignore[union-attr]
    }  # fmt: skip


def test_segments_are_a_binary_body_the_session_opens(world: World) -> None:
    session_id, key = world.open_session()
    e = event("get_segments", headers={"x-secureface-session": session_id},
              query={"first": "1", "count": "1"})  # fmt: skip
    answer = world.invoke("model", e)
    assert answer["statusCode"] == 200 and answer["isBase64Encoded"] is True
    assert answer["headers"]["Content-Type"] == "application/octet-stream"
    data = base64.b64decode(answer["body"])
    opener = StreamOpener(key, stream_id(session_id, world.entry), data[:HEADER_LEN])
    assert opener.open(1, data[HEADER_LEN:]) == MODEL[SEGMENT_SIZE:]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"first": "x"}, "first must be a non-negative integer"),
        ({"first": "-1"}, "first must be a non-negative integer"),
        ({"first": "+1"}, "first must be a non-negative integer"),
        ({"first": " 1"}, "first must be a non-negative integer"),
        ({"first": "1_0"}, "first must be a non-negative integer"),
        ({"first": ""}, "first must be a non-negative integer"),
        ({"first": "1234567890"}, "first must be a non-negative integer"),
        ({"first": "\u0661"}, "first must be a non-negative integer"),  # an Arabic-Indic one
        ({"count": "1e3"}, "count must be a non-negative integer"),
        ({"count": "5"}, "count must be between 1 and 4"),
        ({"first": "2", "count": "1"}, "segments 2..2 are outside 0..1"),
    ],
)
def test_a_bad_segment_range_is_a_400_naming_the_parameter(
    world: World, query: dict[str, str], message: str
) -> None:
    session_id, _ = world.open_session()
    e = event("get_segments", headers={"x-secureface-session": session_id}, query=query)
    answer = world.invoke("model", e)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["message"] == message


def test_a_malformed_range_is_refused_before_the_session_is_looked_up(world: World) -> None:
    """The handler parses the query into integers first (HTTP is its job), so a malformed range
    is a 400 even without a session: nothing is read from the store for it, nothing is told."""
    e = event("get_segments", query={"first": "x"})
    del e["headers"]["x-secureface-session"]
    answer = world.invoke("model", e)
    assert answer["statusCode"] == 400 and error_of(answer) == "bad_request"


def test_segments_need_the_sessions_header(world: World) -> None:
    e = event("get_segments")
    del e["headers"]["x-secureface-session"]
    answer = world.invoke("model", e)
    assert answer["statusCode"] == 401 and error_of(answer) == "session_invalid"


def test_the_schedule_is_answered_with_the_manifests_seconds_to_expiry(world: World) -> None:
    e = json.loads((EVENTS / "scheduled_manifest_check.json").read_text())
    answer = world.invoke("model", e)
    assert 3500 < answer["manifest_seconds_to_expiry"] <= 3600


def test_a_transaction_starts_201_and_is_pending_until_decided(world: World) -> None:
    started = world.start()
    e = event("get_transaction", headers={"authorization": AUTHORIZATION},
              path=(f"/v1/transactions/{started['transaction_id']}",
                    {"transaction_id": started["transaction_id"]}))  # fmt: skip
    answer = world.invoke("transactions", e)
    assert answer["statusCode"] == 409 and error_of(answer) == "pending"
    wrong = event("post_transaction", body={"subject": "alice"})
    answer = world.invoke("transactions", wrong)  # the stored event's credentials are wrong
    assert answer["statusCode"] == 401 and error_of(answer) == "invalid_client"


def test_the_jwks_is_cacheable_json(world: World) -> None:
    answer = world.invoke("transactions", event("get_jwks"))
    assert answer["statusCode"] == 200
    assert answer["headers"]["Cache-Control"] == "public, max-age=300"
    assert json.loads(answer["body"]) == world.result_signer.jwks()


def test_an_unexpected_exception_is_a_bare_500_that_leaks_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def describe_at(self, body: dict[str, Any], *, now: int) -> dict[str, Any]:
            raise RuntimeError("db.example refused the user of the transactions function")

    monkeypatch.setattr(runtime, "transaction_service", Broken)
    answer = world.invoke("transactions", event("post_flow", body={"client_token": "t"}))
    assert answer["statusCode"] == 500
    assert json.loads(answer["body"]) == {
        "statusCode": 500, "code": "internal_error", "message": "Internal error"
    }  # fmt: skip


def test_a_verify_request_for_a_models_session_is_refused_and_nothing_is_decided(
    world: World,
) -> None:
    session_id, _ = world.open_session("models")
    answer = world.invoke("verify", event("post_verify", body={"session_id": session_id}))
    assert answer["statusCode"] == 401 and error_of(answer) == "session_invalid"
    assert [e["kind"] for e in world.audit.entries] == ["transaction"]  # nothing decided


@pytest.mark.parametrize(
    ("name", "body", "status", "code"),
    [
        ("post_verify", "{}", 401, "session_invalid"),
        ("post_verify", "{" + " " * 2_000_000 + "}", 413, "payload_too_large"),
        ("post_enrollment", {"subject_id": "alice", "images": ["!!"]}, 400, "bad_request"),
        ("post_enrollment", {"subject_id": "../x", "images": []}, 400, "bad_request"),
    ],
    ids=["no-session", "oversized", "bad-image", "bad-subject"],
)
def test_bad_verify_and_enrollment_requests_are_4xx_with_an_error_body(
    world: World, name: str, body: Any, status: int, code: str
) -> None:
    answer = world.invoke("verify", event(name, body=body))
    assert answer["statusCode"] == status and error_of(answer) == code


def test_erasure_is_audited_and_answers_what_it_deleted(world: World) -> None:
    answer = world.invoke("verify", event("delete_enrollment"))
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"subject_id": "alice", "deleted": False}
    assert [e["kind"] for e in world.audit.entries] == ["erase"]


def test_every_answer_carries_the_security_headers_and_only_the_jwks_is_cacheable(
    world: World,
) -> None:
    """``no-store`` and ``nosniff`` on every answer, straight from the function (a request to
    execute-api does not pass the distribution's header policy): each success (the key exchange,
    a started transaction, a redeemed result token, the manifest, binary segments, the flow),
    errors and 404."""
    models_session, _ = world.open_session()
    body = {"subject": "alice", "nonce": "n" * 24, "return_url": RETURN_URL, "state": "s"}
    auth = {"authorization": AUTHORIZATION}
    start = world.invoke("transactions", event("post_transaction", body=body, headers=auth))
    started = json.loads(start["body"])
    key, nonce, hello = new_client_hello()
    hello = {**hello, "client_token": started["client_token"], "purpose": "verify"}
    exchange = world.invoke("keyexchange", event("post_session", body=hello))
    verify_session = finish_exchange_at(
        json.loads(exchange["body"]), key, nonce, load_public_key(world.root.public_key_der()),
        now=int(time.time()),
    )  # fmt: skip
    assert world.transactions.decide(
        started["transaction_id"], verify_session.session_id, "verified", "a.result.token",
        int(time.time()) + 600,
    )  # fmt: skip
    tid, token = started["transaction_id"], world.start()["client_token"]
    answers = {
        "session": exchange,
        "start": start,
        "redeem": world.invoke("transactions", event(
            "get_transaction", headers=auth,
            path=(f"/v1/transactions/{tid}", {"transaction_id": tid}))),
        "manifest": world.invoke("model", event("get_manifest")),
        "segments": world.invoke("model", event("get_segments",
                                                headers={"x-secureface-session": models_session})),
        "flow": world.invoke("transactions", event("post_flow", body={"client_token": token})),
        "jwks": world.invoke("transactions", event("get_jwks")),
        "error": world.invoke("keyexchange", event("post_session", body={})),
        "404": world.invoke("keyexchange", event("default_route")),
    }  # fmt: skip
    statuses = {name: answer["statusCode"] for name, answer in answers.items()}
    assert statuses == {
        "session": 200, "start": 201, "redeem": 200, "manifest": 200, "segments": 200,
        "flow": 200, "jwks": 200, "error": 400, "404": 404,
    }  # fmt: skip
    assert json.loads(answers["redeem"]["body"])["result"] == "a.result.token"
    for name, answer in answers.items():
        headers = {k.lower(): v for k, v in answer["headers"].items()}
        assert headers["x-content-type-options"] == "nosniff", name
        expected = "public, max-age=300" if name == "jwks" else "no-store"
        assert headers["cache-control"] == expected, name


def test_a_failure_to_build_the_model_service_is_a_reported_check_not_a_crash(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hourly check reports 0 s (the alarm's breaching value) when the function cannot even
    be set up, rather than raising and leaving the metric missing."""

    def broken() -> ModelService:
        raise ConfigurationError(reason="SECUREFACE_MIN_MANIFEST_VERSION is not set")

    monkeypatch.setattr(runtime, "model_service", broken)
    e = json.loads((EVENTS / "scheduled_manifest_check.json").read_text())
    assert world.invoke("model", e) == {"manifest_seconds_to_expiry": 0}


def test_the_manifest_is_served_without_the_session_store(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the public manifest nor the hourly check reach MongoDB (or its secret)."""

    def no_mongo() -> SessionVault:
        raise StoreUnavailableError(reason="mongo secret unreadable")

    models = ModelService(world.models.delivery, no_mongo)
    monkeypatch.setattr(runtime, "model_service", lambda: models)
    assert world.invoke("model", event("get_manifest"))["statusCode"] == 200
    e = json.loads((EVENTS / "scheduled_manifest_check.json").read_text())
    assert world.invoke("model", e)["manifest_seconds_to_expiry"] > 3500
    segments = world.invoke("model", event("get_segments"))
    assert segments["statusCode"] == 503 and error_of(segments) == "service_unavailable"


def test_stored_session_keys_of_the_wrong_length_are_an_invalid_session(world: World) -> None:
    session_id, _ = world.open_session()
    record = world.sessions.get(session_id)
    assert record is not None
    sealed = EnvelopeCipher(PlainDataKeys()).seal_at(b"short", session_aad(session_id), now=0)
    world.sessions.records[session_id] = dataclasses.replace(record, sealed_keys=sealed)
    e = event("get_segments", headers={"x-secureface-session": session_id})
    answer = world.invoke("model", e)
    assert answer["statusCode"] == 401 and error_of(answer) == "session_invalid"
