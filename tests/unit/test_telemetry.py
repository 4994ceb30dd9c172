"""Metrics and log wiring (issue 11): what an alarm can see, and only that.

Each metric is read back from the embedded-metric-format line Powertools prints, as CloudWatch
would parse it."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from secureface.api import telemetry
from secureface.errors import ModelUnavailableError, SecureFaceError, StoreUnavailableError
from tests.fakes import LocalSigner
from tests.unit.test_delivery import NOW, bucket, delivery


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SecureFace")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "secureface")
    Metrics().clear_metrics()


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every EMF document printed so far, after flushing the shared metric set."""
    Metrics().flush_metrics()
    lines = capsys.readouterr().out.splitlines()
    return [json.loads(line) for line in lines if line.startswith('{"_aws"')]


def values(documents: list[dict[str, Any]], name: str) -> list[tuple[dict[str, str], list[Any]]]:
    found = []
    for doc in documents:
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            if any(m["Name"] == name for m in directive["Metrics"]):
                dims = {d: doc[d] for group in directive["Dimensions"] for d in group}
                found.append((dims, doc[name]))
    return found


def test_a_decision_is_counted_by_decision_and_reason_with_its_latency_and_lock(
    capsys: pytest.CaptureFixture[str],
) -> None:
    telemetry.observe_verify("not_verified", "light_not_reflected", 812.5, True)
    telemetry.observe_verify("verified", "ok", 401.0, False)
    docs = emitted(capsys)
    decisions = values(docs, telemetry.DECISIONS)
    assert [d for d, _ in decisions] == [
        {"decision": "not_verified", "reason": "light_not_reflected", "service": "secureface"},
        {"decision": "verified", "reason": "ok", "service": "secureface"},
    ]
    ((dims, latency),) = values(docs, telemetry.VERIFY_LATENCY)
    assert dims == {"service": "secureface"} and latency == [812.5, 401.0]
    assert values(docs, telemetry.LOCKS_ENGAGED) == [({"service": "secureface"}, [1.0])]


def test_a_reason_outside_the_vocabulary_is_not_a_dimension(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Dimensions are a bounded set: free text (or anything an attacker could steer) never is."""
    telemetry.observe_verify("not_verified", "Subject alice: 0.31 < 0.363", 5.0, False)
    ((dims, _),) = values(emitted(capsys), telemetry.DECISIONS)
    assert dims["reason"] == "other"


@pytest.mark.parametrize(
    ("error", "metric"),
    [
        (StoreUnavailableError(reason="mongo find failed"), telemetry.STORE_UNAVAILABLE),
        (ModelUnavailableError(reason="stored manifest: expired"), telemetry.MODEL_UNAVAILABLE),
        (SecureFaceError(), telemetry.UNHANDLED_ERRORS),
    ],
)
def test_unavailable_stores_models_and_500s_are_counted(
    capsys: pytest.CaptureFixture[str], error: SecureFaceError, metric: str
) -> None:
    telemetry.count_error(error)
    assert values(emitted(capsys), metric) == [({"service": "secureface"}, [1.0])]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_client_errors_are_not_alarm_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    from secureface.errors import BadRequestError, SessionError

    for error in (BadRequestError("x"), SessionError(reason="expired")):
        telemetry.count_error(error)
    assert emitted(capsys) == []


def test_the_manifest_check_reports_seconds_to_expiry_and_zero_when_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    signer = LocalSigner()
    store = bucket(signer, 2)  # valid for an hour from NOW
    good = delivery(signer, store, floor=2)
    assert telemetry.check_manifest(lambda now: good.manifest_at(now).expires_at, NOW + 600) == {
        "manifest_seconds_to_expiry": 3000
    }
    below_floor = delivery(signer, store, floor=3)
    assert telemetry.check_manifest(
        lambda now: below_floor.manifest_at(now).expires_at, NOW + 600
    ) == {"manifest_seconds_to_expiry": 0}
    docs = emitted(capsys)
    assert values(docs, telemetry.MANIFEST_SECONDS_TO_EXPIRY) == [
        ({"service": "secureface"}, [3000.0, 0.0])
    ]
    assert values(docs, telemetry.MODEL_UNAVAILABLE) == [({"service": "secureface"}, [1.0])]


def test_only_an_eventbridge_schedule_is_a_scheduled_event() -> None:
    assert telemetry.is_scheduled({"source": "aws.events", "detail-type": "Scheduled Event"})
    assert not telemetry.is_scheduled({"source": "aws.events", "detail-type": "Other"})
    assert not telemetry.is_scheduled({"version": "2.0", "rawPath": "/models/manifest"})


def test_the_packages_logs_reach_the_function_log_whatever_the_service_is_called(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the package's records reached CloudWatch only because the service name happened
    to equal the package name. Now they are wired to the function's handler explicitly."""
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "secureface-verify")
    package = logging.getLogger(telemetry.PACKAGE_LOGGER)
    saved = (package.handlers[:], package.propagate, package.level)
    try:
        telemetry.function_logger()
        logging.getLogger("secureface.verify.service").info("verify decided", extra={"x": 1})
        (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x]
        assert line["message"] == "verify decided" and line["service"] == "secureface-verify"
        assert line["name"] == "secureface.verify.service"
    finally:
        package.handlers, package.propagate = saved[0], saved[1]
        package.setLevel(saved[2])
