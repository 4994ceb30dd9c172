"""Verification function: ``POST /verify`` and the admin enrollment routes (AWS_IAM only)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from secureface import runtime
from secureface.api.http import create_app, json_body, viewer_address
from secureface.api.telemetry import function_logger
from secureface.verify.request import MAX_ENROLL_PAYLOAD, MAX_PAYLOAD

logger = function_logger()
tracer = Tracer()
metrics = Metrics()
app = create_app()
MAX_BODY = MAX_PAYLOAD * 4 // 3 + 4096  # base64url of the sealed payload, plus JSON
MAX_ENROLL_BODY = MAX_ENROLL_PAYLOAD * 4 // 3 + 4096


@app.post("/verify")
@tracer.capture_method(capture_response=False)
def post_verify() -> dict[str, str]:
    """Decide on an encrypted burst of challenge frames; the answer is sealed for the session."""
    event = app.current_event
    client = viewer_address(
        event.headers, event.request_context.http.source_ip, runtime.edge_token()
    )
    answer = runtime.verify_service().verify_at(
        json_body(app, limit=MAX_BODY), client, now=int(time.time())
    )
    metrics.add_metric(name="VerifyAttempts", unit=MetricUnit.Count, value=1)
    return answer


@app.post("/admin/enrollments")
@tracer.capture_method(capture_response=False)
def post_enrollment() -> dict[str, Any]:
    """Enroll or re-enroll a subject (IAM-authorized at the API)."""
    body = json_body(app, limit=MAX_ENROLL_BODY)
    return runtime.verify_service().enroll_at(body, now=int(time.time()))


@app.delete("/admin/enrollments/<subject>")
@tracer.capture_method(capture_response=False)
def delete_enrollment(subject: str) -> dict[str, Any]:
    """Erase a subject's template (IAM-authorized at the API)."""
    return runtime.verify_service().erase_at(subject, now=int(time.time()))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
