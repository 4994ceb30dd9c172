"""Model delivery function: the signed manifest (and, with the protocol, model segments)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from secureface import runtime
from secureface.api.http import create_app
from secureface.models.delivery import current_manifest

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_app()


@app.get("/models/manifest")
@tracer.capture_method(capture_response=False)
def get_manifest() -> dict[str, str]:
    """The current signed manifest; clients verify it against their pinned key."""
    return {"format": "jws-compact", "manifest": current_manifest(runtime.model_store())}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
