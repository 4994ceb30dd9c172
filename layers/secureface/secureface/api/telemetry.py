"""Logs and metrics of the functions: the package's logger wired to Powertools explicitly, and
every metric an on-call engineer alarms on, named once here (``template.yaml``'s alarms and
dashboard use these names; ``tests/infra`` checks they match).

Metrics are CloudWatch embedded-metric-format lines (Powertools ``Metrics``; namespace
``POWERTOOLS_METRICS_NAMESPACE``, dimension ``service``), flushed by each handler's
``@metrics.log_metrics``. None carries a subject, a score or anything secret: decisions are
counted by decision and reason (a fixed vocabulary), nothing else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from secureface.errors import SecureFaceError

#: The package's root logger: every module logs under it (``secureface.verify.service`` …).
PACKAGE_LOGGER = "secureface"

#: Metric names (namespace ``SecureFace``).
DECISIONS = "Decisions"  # dimensions decision, reason
VERIFY_LATENCY = "VerifyLatency"  # ms, one per decided attempt
LOCKS_ENGAGED = "LocksEngaged"  # an attempt that locked a subject or a client
STORE_UNAVAILABLE = "StoreUnavailable"  # 503 service_unavailable (MongoDB, KMS, S3)
MODEL_UNAVAILABLE = "ModelUnavailable"  # 503 model_unavailable (manifest or model refused)
UNHANDLED_ERRORS = "UnhandledErrors"  # 500: a bug or a configuration error
MANIFEST_SECONDS_TO_EXPIRY = "ManifestSecondsToExpiry"  # hourly, from the model function

#: Error codes counted, by the metric that counts them.
_ERROR_METRICS = {
    "service_unavailable": STORE_UNAVAILABLE,
    "model_unavailable": MODEL_UNAVAILABLE,
    "internal_error": UNHANDLED_ERRORS,
    "configuration_error": UNHANDLED_ERRORS,
}
_REASON = re.compile(r"[a-z][a-z_]{0,39}")


def function_logger() -> Logger:
    """The function's Powertools logger, with the package's logger given its handler and level
    explicitly (whatever ``POWERTOOLS_SERVICE_NAME`` says, the package's records are emitted
    as the same JSON lines, with the module's name)."""
    logger = Logger()
    logging.getLogger(PACKAGE_LOGGER)  # registered, so it is found below
    if logger.name.split(".")[0] != PACKAGE_LOGGER:
        copy_config_to_registered_loggers(source_logger=logger, include={PACKAGE_LOGGER})
    return logger


def count(name: str, value: float = 1) -> None:
    """Add to a count flushed with the handler's metrics."""
    Metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_error(error: SecureFaceError) -> None:
    """Count an error answer that an alarm watches (unavailable stores or models, 500s)."""
    if name := _ERROR_METRICS.get(error.code):
        count(name)


def observe_verify(decision: str, reason: str, latency_ms: float, locked: bool) -> None:
    """Metrics of one decided attempt (no subject, no score): the decision by reason, the
    latency, a lock engaged (``VerifyService.observe``)."""
    reason = reason if _REASON.fullmatch(reason) else "other"
    with single_metric(name=DECISIONS, unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="decision", value=decision)
        metric.add_dimension(name="reason", value=reason)
    Metrics().add_metric(name=VERIFY_LATENCY, unit=MetricUnit.Milliseconds, value=latency_ms)
    if locked:
        count(LOCKS_ENGAGED)


def is_scheduled(event: dict[str, Any]) -> bool:
    """An EventBridge schedule's event (the model function's hourly manifest check)."""
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def check_manifest(expires_at: Callable[[int], int], now: int) -> dict[str, Any]:
    """The hourly manifest check: seconds until the stored manifest expires (0 when it does not
    verify, is expired or below the deployed floor, which also counts as a model outage).
    ``expires_at(now)`` reads and checks the manifest (``ModelDelivery.manifest_at``)."""
    try:
        left = max(0, expires_at(now) - now)
    except SecureFaceError as error:
        logging.getLogger(__name__).error(
            "manifest check failed", extra={"code": error.code, "reason": error.reason}
        )
        left = 0
        count(MODEL_UNAVAILABLE)
    Metrics().add_metric(name=MANIFEST_SECONDS_TO_EXPIRY, unit=MetricUnit.Seconds, value=left)
    return {"manifest_seconds_to_expiry": left}
