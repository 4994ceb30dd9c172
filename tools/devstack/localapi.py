"""The local API: HTTP requests → API Gateway HTTP API (payload v2) events → the same handlers.

What it emulates of API Gateway, because clients and tests depend on it: route matching with
path parameters and the ``$default`` route, payload format 2.0 (lower-cased headers, cookies,
base64 bodies for non-text content), the CORS configuration of the template, the request and
response size limits (10 MB API, 6 MB Lambda), ``AWS_IAM`` routes refusing unsigned requests, and
function errors answered as 500/503 without details.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from devstack.functions import FunctionError, FunctionPool
from devstack.sigv4 import verify_sigv4
from devstack.template import ApiSpec, RouteSpec

log = logging.getLogger(__name__)

API_LIMIT = 10 * 1024 * 1024
LAMBDA_LIMIT = 6 * 1024 * 1024
_TEXT_TYPES = re.compile(
    r"^(text/|application/(json|.*\+json|xml|x-www-form-urlencoded|javascript))"
)


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"statusCode": status, "code": code, "message": message}).encode()
    return status, {"content-type": "application/json"}, body


def _route_regex(path: str) -> re.Pattern[str]:
    pattern = re.escape(path)
    pattern = re.sub(r"\\\{([A-Za-z_]+)\\\+\\\}", r"(?P<\1>.+)", pattern)
    pattern = re.sub(r"\\\{([A-Za-z_]+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")


class LocalApi:
    """Routes and invokes; independent of the HTTP server so it can be driven directly."""

    def __init__(
        self,
        spec: ApiSpec,
        pools: dict[str, FunctionPool],
        cors_origins: list[str],
        iam_credentials: tuple[str, str] = ("", ""),
    ) -> None:
        self.spec = spec
        self.iam_credentials = iam_credentials
        self.pools = pools
        self.cors_origins = cors_origins
        self._compiled = [(r, _route_regex(r.path)) for r in spec.routes if r.path != "$default"]
        self._default = next((r for r in spec.routes if r.path == "$default"), None)

    def match(self, method: str, path: str) -> tuple[RouteSpec | None, dict[str, str]]:
        """The route for ``method path`` (most specific first) and its path parameters."""
        candidates = []
        for route, regex in self._compiled:
            found = regex.match(path)
            if found and route.method in (method, "ANY"):
                specificity = (route.method == method, -len(found.groupdict()), len(route.path))
                candidates.append((specificity, route, found.groupdict()))
        if candidates:
            _, route, params = max(candidates, key=lambda c: c[0])
            return route, params
        return self._default, {}

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: ``(status, headers, body)``."""
        url = urlsplit(target)
        path = unquote(url.path)
        origin = headers.get("origin", "")
        if method == "OPTIONS" and self.spec.cors and "access-control-request-method" in headers:
            return self._preflight(origin)
        status, out_headers, out_body = self._dispatch(
            method, path, url.query, headers, body, source_ip, target
        )
        if self.spec.cors and origin in self.cors_origins:
            out_headers["access-control-allow-origin"] = origin
            out_headers["vary"] = "Origin"
            exposed = self.spec.cors.get("ExposeHeaders")
            if exposed:
                out_headers["access-control-expose-headers"] = ",".join(exposed)
        return status, out_headers, out_body

    def _preflight(self, origin: str) -> tuple[int, dict[str, str], bytes]:
        if origin not in self.cors_origins:
            return 204, {}, b""
        cors = self.spec.cors
        return (
            204,
            {
                "access-control-allow-origin": origin,
                "access-control-allow-methods": ",".join(cors.get("AllowMethods", ["*"])),
                "access-control-allow-headers": ",".join(cors.get("AllowHeaders", [])),
                "access-control-max-age": str(cors.get("MaxAge", 0)),
                "vary": "Origin",
            },
            b"",
        )

    def _dispatch(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        source_ip: str,
        target: str,
    ) -> tuple[int, dict[str, str], bytes]:
        if len(body) > API_LIMIT:
            return _error(413, "payload_too_large", "Request body is over the API limit")
        route, params = self.match(method, path)
        if route is None:
            return _error(404, "not_found", f"No route {method} {path}")
        if route.iam_auth:
            url = f"http://{headers.get('host', '')}{target}"
            refused = verify_sigv4(method, url, headers, body, *self.iam_credentials)
            if refused is not None:
                log.info("IAM authorization refused: %s", refused)
                return 403, {"content-type": "application/json"}, b'{"message":"Forbidden"}'
        event = build_event(method, path, query, headers, body, route, params, source_ip)
        if len(json.dumps(event)) > LAMBDA_LIMIT:
            return _error(413, "payload_too_large", "Request body is over the Lambda limit")
        try:
            response = self.pools[route.function].invoke(event)
        except FunctionError as exc:
            log.error("function %s failed: %s", route.function, exc.kind)
            if exc.kind == "Timeout":
                return _error(503, "service_unavailable", "Service temporarily unavailable")
            return _error(500, "internal_error", "Internal error")
        return to_http(response)


def build_event(
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    route: RouteSpec,
    params: dict[str, str],
    source_ip: str,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload format 2.0 event."""
    content_type = headers.get("content-type", "")
    is_text = not body or bool(_TEXT_TYPES.match(content_type))
    query_params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
    route_key = "$default" if route.path == "$default" else f"{route.method} {route.path}"
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k: v for k, v in headers.items() if k != "cookie"},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if query_params:
        event["queryStringParameters"] = query_params
    if params:
        event["pathParameters"] = params
    if "cookie" in headers:
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
    if body:
        event["body"] = (
            body.decode("utf-8", "replace") if is_text else base64.b64encode(body).decode()
        )
    return event


def to_http(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """Turn a handler's payload-v2 response into ``(status, headers, body)``."""
    if "statusCode" not in response:
        return (
            200,
            {"content-type": "application/json"},
            json.dumps(response.get("body", response)).encode(),
        )
    raw = response.get("body") or ""
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode()
    if len(body) > LAMBDA_LIMIT:
        log.error("function response over the 6 MB Lambda limit (%d bytes)", len(body))
        return _error(500, "internal_error", "Internal error")
    headers = {str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    for cookie in response.get("cookies") or []:
        headers.setdefault("set-cookie", cookie)
    return int(response["statusCode"]), headers, body


def make_server(api: LocalApi, port: int) -> ThreadingHTTPServer:
    """A threaded HTTP server on 127.0.0.1:``port`` serving ``api``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > API_LIMIT:
                status, headers, body = _error(
                    413, "payload_too_large", "Request body is over the API limit"
                )
                self.close_connection = True
            else:
                data = self.rfile.read(length) if length else b""
                lowered = {k.lower(): v for k, v in self.headers.items()}
                status, headers, body = api.handle(
                    self.command, self.path, lowered, data, self.client_address[0]
                )
            self.send_response(status)
            for key, value in headers.items():
                if key not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(key, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def __getattr__(self, name: str) -> Any:
            # Every method reaches the API (as on API Gateway, whose $default route takes ANY):
            # TRACE, PROPFIND, ... get our 404/405 body, not the stdlib's HTML 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("api %s", fmt % args)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def frontend_server(
    root: Path, port: int, headers: dict[str, str], generated: dict[str, bytes]
) -> ThreadingHTTPServer:
    """Serve the built frontend from ``root`` with the production security headers.

    ``generated`` maps paths (``/config.json``) to bytes served from memory, so a stack never
    writes into the build output.
    """
    from functools import partial
    from http.server import SimpleHTTPRequestHandler

    class Static(SimpleHTTPRequestHandler):
        extensions_map = {  # noqa: RUF012
            **SimpleHTTPRequestHandler.extensions_map,
            ".wasm": "application/wasm",
            ".mjs": "text/javascript",
            ".js": "text/javascript",
            ".json": "application/json",
        }

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path in generated:
                body = generated[path]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def end_headers(self) -> None:
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Cache-Control", "no-cache")
            super().end_headers()

        def list_directory(self, path: Any) -> None:  # type: ignore[override]
            self.send_error(404, "Not found")
            return None

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("web %s", fmt % args)

    server = ThreadingHTTPServer(("127.0.0.1", port), partial(Static, directory=str(root)))
    server.daemon_threads = True
    return server
