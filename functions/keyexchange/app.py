"""Key-exchange function: ``POST /session``, and the ``$default`` route (404/405 answers)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from secureface import runtime
from secureface.api.http import create_app, json_body
from secureface.api.telemetry import function_logger

logger = function_logger()
tracer = Tracer()
metrics = Metrics()
app = create_app()


@app.post("/session")
@tracer.capture_method(capture_response=False)
def post_session() -> dict[str, str]:
    """Authenticated ECDH for a transaction's client token: answer the signed transcript and
    delegation (docs/PROTOCOL.md)."""
    response = runtime.key_exchange_service().open_at(
        json_body(app, limit=4096), now=int(time.time())
    )
    metrics.add_metric(name="SessionsOpened", unit=MetricUnit.Count, value=1)
    return response


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
