"""Model delivery function: the signed manifest and per-session encrypted segment ranges, and
the hourly manifest check (an EventBridge schedule): seconds until the manifest expires, the
metric the likeliest outage — an expiring manifest — alarms on."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from secureface import runtime
from secureface.api.http import create_app, query_int
from secureface.api.telemetry import check_manifest, function_logger, is_scheduled
from secureface.models.segments import SESSION_HEADER

logger = function_logger()
tracer = Tracer()
metrics = Metrics()
app = create_app()


@app.get("/models/manifest")
@tracer.capture_method(capture_response=False)
def get_manifest() -> dict[str, str]:
    """The current signed manifest; clients verify it against their pinned key."""
    return {"format": "jws-compact", "manifest": runtime.model_service().manifest()}


@app.get("/models/<name>/<version>/segments")
@tracer.capture_method(capture_response=False)
def get_segments(name: str, version: str) -> Response[bytes]:
    """A range of the model's segments sealed for the caller's session (binary)."""
    body = runtime.model_service().segments_at(
        name,
        version,
        app.current_event.headers.get(SESSION_HEADER, ""),
        query_int(app, "first"),
        query_int(app, "count"),
        now=int(time.time()),
    )
    return Response(
        status_code=200,
        content_type="application/octet-stream",
        body=body,
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_scheduled(event):
        # Inside check_manifest: a failure to build the service is a failed check, reported.
        return check_manifest(
            lambda now: runtime.model_service().manifest_expires_at(now), int(time.time())
        )
    return app.resolve(event, context)
