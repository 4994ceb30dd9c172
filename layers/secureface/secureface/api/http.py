"""Powertools resolver factory with SecureFace's error mapping (one error body for all routes).

Every :class:`~secureface.errors.SecureFaceError` becomes ``{"statusCode", "code", "message"}``
with its status; unknown routes answer 404 and known paths with another method 405 (with
``Allow``); any other exception is a bug: logged with its traceback, answered as an opaque 500.
The precise reason of a failure goes to the log as a field, never to the client.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
import logging
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from secureface.api.routes import allowed_methods
from secureface.api.telemetry import UNHANDLED_ERRORS, count, count_error
from secureface.errors import (
    BadRequestError,
    ClientAuthError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    SecureFaceError,
)

log = logging.getLogger(__name__)

#: Largest JSON request body accepted by :func:`json_body`.
MAX_JSON_BODY = 64 * 1024
SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def error_response(error: SecureFaceError) -> Response[str]:
    """The HTTP response for ``error``."""
    headers = dict(SECURITY_HEADERS)
    if isinstance(error, MethodNotAllowedError) and error.allowed:
        headers["Allow"] = ", ".join(error.allowed)
    if isinstance(error, ClientAuthError):
        headers["WWW-Authenticate"] = 'Basic realm="secureface", charset="UTF-8"'  # RFC 7617
    return Response(
        status_code=error.http_status,
        content_type="application/json",
        body=json.dumps(error.to_body()),
        headers=headers,
    )


def _security_headers(
    app: APIGatewayHttpResolver, next_middleware: NextMiddleware
) -> Response[Any]:
    """Every answer of a route carries :data:`SECURITY_HEADERS` unless it set its own value
    (the JWKS is cacheable): a key-exchange answer or a result token is never stored by a cache,
    whether it came through the distribution or straight from execute-api."""
    response = next_middleware(app)
    for name, value in SECURITY_HEADERS.items():
        if not any(k.lower() == name.lower() for k in response.headers):
            response.headers[name] = value
    return response


def create_app() -> APIGatewayHttpResolver:
    """A resolver with the error handlers installed; handlers add their routes to it."""
    app = APIGatewayHttpResolver()
    app.use(middlewares=[_security_headers])

    @app.exception_handler(SecureFaceError)  # type: ignore[misc]
    def _known(error: SecureFaceError) -> Response[str]:
        level = logging.ERROR if error.http_status >= 500 else logging.INFO
        log.log(level, "request refused", extra={"code": error.code, "reason": error.reason})
        count_error(error)
        return error_response(error)

    @app.exception_handler(Exception)  # type: ignore[misc]
    def _bug(error: Exception) -> Response[str]:
        log.exception("unhandled error", extra={"error_type": type(error).__name__})
        count(UNHANDLED_ERRORS)
        return error_response(SecureFaceError())

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        event = app.current_event
        path, method = event.path, event.http_method
        allowed = allowed_methods(path)
        if allowed and method not in allowed:
            return error_response(
                MethodNotAllowedError(f"{method} is not allowed on {path}", allowed=allowed)
            )
        return error_response(NotFoundError(f"No route {method} {path}"))

    return app


def json_body(app: APIGatewayHttpResolver, *, limit: int = MAX_JSON_BODY) -> dict[str, Any]:
    """The request body as a JSON object.

    Raises:
        PayloadTooLargeError: the body is over ``limit`` bytes.
        BadRequestError: not valid JSON, or not an object.
    """
    return parse_json_object(raw_body(app, limit=limit))


def raw_body(app: APIGatewayHttpResolver, *, limit: int) -> bytes:
    """The request body as bytes (base64-decoded when the event says so).

    Raises:
        PayloadTooLargeError: the body is over ``limit`` bytes.
        BadRequestError: the body claims base64 but is not.
    """
    event = app.current_event
    body = event.body or ""
    if len(body) > limit * 4 // 3 + 4:
        raise PayloadTooLargeError(f"Request body is over {limit} bytes")
    if event.is_base64_encoded:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequestError("Request body is not valid base64") from exc
    else:
        data = body.encode("utf-8")
    if len(data) > limit:
        raise PayloadTooLargeError(f"Request body is over {limit} bytes")
    return data


def parse_json_object(data: bytes) -> dict[str, Any]:
    """Parse ``data`` as a JSON object.

    Raises:
        BadRequestError: not UTF-8 JSON, or not an object.
    """
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequestError("Request body is not valid JSON") from exc
    if not isinstance(value, dict):
        raise BadRequestError("Request body must be a JSON object")
    return value


EDGE_HEADER = "x-secureface-edge"
VIEWER_ADDRESS_HEADER = "cloudfront-viewer-address"


def query_int(app: APIGatewayHttpResolver, name: str) -> int | None:
    """An optional non-negative integer query parameter (absent: ``None``).

    Raises:
        BadRequestError: present but not a decimal integer.
    """
    value = (app.current_event.query_string_parameters or {}).get(name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise BadRequestError(f"{name} must be a non-negative integer")
    return int(value)


def viewer_address(headers: Mapping[str, str], source_ip: str, edge_token: str) -> str:
    """The address of the person's browser, for the per-client lockout.

    Behind the distribution the connection comes from CloudFront, which names the viewer in
    ``CloudFront-Viewer-Address`` (``ip:port``; IPv6 unbracketed) and proves it forwarded the
    request with the ``X-SecureFace-Edge`` token. Anyone may send those headers straight to
    execute-api: without the token (compared in constant time) the connection's own address
    counts, so a forged viewer address never moves a client's failures elsewhere.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    offered = lowered.get(EDGE_HEADER, "")
    if not edge_token or not hmac.compare_digest(offered.encode(), edge_token.encode()):
        return source_ip
    viewer = lowered.get(VIEWER_ADDRESS_HEADER, "").strip()
    address, sep, port = viewer.rpartition(":")
    if not sep or not port.isdigit() or not address:
        return source_ip
    try:
        return str(ipaddress.ip_address(address.strip("[]")))
    except ValueError:
        return source_ip
