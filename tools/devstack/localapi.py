"""The local API: HTTP requests → API Gateway HTTP API (payload v2) events → the same handlers.

What it emulates of API Gateway, because clients and tests depend on it: route matching with
path parameters and the ``$default`` route, payload format 2.0 (lower-cased headers, cookies,
base64 bodies for non-text content), no CORS (the template configures none: the page and the
API are one origin under the distribution, emulated by :func:`frontend_server`), the request and
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
        iam_credentials: tuple[str, str] = ("", ""),
    ) -> None:
        self.spec = spec
        self.iam_credentials = iam_credentials
        self.pools = pools
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
        return self._dispatch(
            method, unquote(url.path), url.query, headers, body, source_ip, target
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
            send(self, status, headers, body)

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


def send(
    handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes
) -> None:
    """Write one answer of the API (hop-by-hop and length headers are the server's own)."""
    handler.send_response(status)
    for key, value in headers.items():
        if key not in ("content-length", "connection", "transfer-encoding"):
            handler.send_header(key, value)
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


class Edge:
    """What the distribution does in front of the API (template ``Distribution``): requests on
    its API paths go to the API with the viewer's address in ``CloudFront-Viewer-Address`` and
    the distribution's token in ``X-SecureFace-Edge`` (both overwritten if the viewer sent
    them), and the responses get the page's security headers."""

    def __init__(self, api: LocalApi, paths: tuple[str, ...], token: str) -> None:
        self.api, self.paths, self.token = api, paths, token

    def routes(self, path: str) -> bool:
        from devstack.template import edge_path_matches

        return any(edge_path_matches(p, path) for p in self.paths)

    def forward(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        viewer: tuple[str, int],
    ) -> tuple[int, dict[str, str], bytes]:
        ip, port = viewer[0], viewer[1]
        forwarded = {k: v for k, v in headers.items() if k not in ("host", "x-secureface-edge",
                     "cloudfront-viewer-address")}  # fmt: skip
        forwarded |= {"x-secureface-edge": self.token, "cloudfront-viewer-address": f"{ip}:{port}"}
        return self.api.handle(method, target, forwarded, body, "127.0.0.1")


def frontend_server(
    root: Path,
    port: int,
    headers: dict[str, str],
    generated: dict[str, bytes],
    edge: Edge | None = None,
) -> ThreadingHTTPServer:
    """Serve the built frontend from ``root`` with the production security headers, and, with
    ``edge``, the API under the same origin as CloudFront does.

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

        def _edge(self) -> bool:
            """Forward an API path to the API; whether it was one."""
            if edge is None or not edge.routes(urlsplit(self.path).path):
                return False
            length = int(self.headers.get("content-length") or 0)
            if length > API_LIMIT:
                status, out, body = _error(413, "payload_too_large", "Request body is too large")
                self.close_connection = True
            else:
                data = self.rfile.read(length) if length else b""
                lowered = {k.lower(): v for k, v in self.headers.items()}
                status, out, body = edge.forward(
                    self.command, self.path, lowered, data, self.client_address
                )
            send(self, status, out, body)
            return True

        def _refuse(self) -> None:  # CloudFront's default behavior allows GET and HEAD only
            if not self._edge():
                self.send_error(403, "Forbidden")

        do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _refuse

        def do_HEAD(self) -> None:
            if not self._edge():
                super().do_HEAD()

        def do_GET(self) -> None:
            if self._edge():
                return
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
