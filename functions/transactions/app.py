"""Relying-party function: transactions (started and redeemed by an RP's backend with its
client credentials), the hosted page's view of one (``POST /v1/flow``), and the JWKS that
verifies result tokens."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from secureface import runtime
from secureface.api.http import create_app, json_body
from secureface.api.telemetry import function_logger

logger = function_logger()
tracer = Tracer()
metrics = Metrics()
app = create_app()


def _authorization() -> str:
    return str(app.current_event.headers.get("authorization", ""))


@app.post("/v1/transactions")
@tracer.capture_method(capture_response=False)
def post_transaction() -> Response[Any]:
    """Start a transaction for the authenticated relying party (201)."""
    started = runtime.transaction_service().start_at(
        _authorization(), json_body(app, limit=4096), now=int(time.time())
    )
    metrics.add_metric(name="TransactionsStarted", unit=MetricUnit.Count, value=1)
    return Response(201, "application/json", started)


@app.get("/v1/transactions/<transaction_id>")
@tracer.capture_method(capture_response=False)
def get_transaction(transaction_id: str) -> dict[str, Any]:
    """Redeem the result token, once, for the relying party that started the transaction."""
    redeemed = runtime.transaction_service().redeem_at(
        _authorization(), transaction_id, now=int(time.time())
    )
    metrics.add_metric(name="ResultsRedeemed", unit=MetricUnit.Count, value=1)
    return redeemed


@app.post("/v1/flow")
@tracer.capture_method(capture_response=False)
def post_flow() -> dict[str, Any]:
    """What the hosted page shows for its client token (the token is not used up)."""
    return runtime.transaction_service().describe_at(
        json_body(app, limit=1024), now=int(time.time())
    )


@app.get("/.well-known/jwks.json")
@tracer.capture_method(capture_response=False)
def get_jwks() -> Response[Any]:
    """The public keys of result tokens (cacheable: rotation publishes the next key first)."""
    headers = {"Cache-Control": "public, max-age=300"}
    return Response(200, "application/json", runtime.result_jwks(), headers=headers)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
