"""``devstack up --faults``: fault proxies in front of MongoDB and moto, and their control.

The emulated functions reach MongoDB and AWS (moto) through :mod:`faultproxy`; the stack's
own setup and the tests' own checks go direct. A small HTTP endpoint on 127.0.0.1 switches
the faults while the functions keep running:

    GET  /faults                 {"mongo": {...state}, "aws": {...state}}
    POST /faults/<mongo|aws>     {"mode": "pass|down|hang|delay", "delay_ms": 0,
                                  "drop": [["insert", "audit"], ...]}   → the new state
    POST /mongo/restart          {"kill": false}   restart the local MongoDB server on its data
                                                   directory (409 with an external MongoDB)
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from faultproxy import Fault, FaultProxy

if TYPE_CHECKING:
    from devstack.stack import Stack

log = logging.getLogger(__name__)


def _host_port(uri: str, default_port: int) -> tuple[str, int]:
    netloc = urlsplit(uri).netloc.rsplit("@", 1)[-1]
    host, _, port = netloc.partition(":")
    return host, int(port or default_port)


def rewrite_mongo_uri(uri: str, port: int) -> str:
    """``uri`` with its single host replaced by 127.0.0.1:``port`` (credentials kept)."""
    parts = urlsplit(uri)
    userinfo, _, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
    return parts._replace(netloc=netloc).geturl()


class FaultControl:
    """The two proxies and the control endpoint of one stack."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.proxies = {
            "mongo": FaultProxy("mongo", _host_port(stack.mongo_uri, 27017), mongo=True),
            "aws": FaultProxy("aws", ("127.0.0.1", stack.ports.moto)),
        }
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def function_env(self, own_mongo_uri: str) -> dict[str, str]:
        """The environment overrides that send a function through the proxies."""
        mongo = own_mongo_uri or self.stack.mongo_uri
        return {
            "SECUREFACE_MONGO_URI": rewrite_mongo_uri(mongo, self.proxies["mongo"].port),
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.proxies['aws'].port}",
        }

    def state(self) -> dict[str, Any]:
        return {name: proxy.state() for name, proxy in self.proxies.items()}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for proxy in self.proxies.values():
            proxy.close()


def _handler(control: FaultControl) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            log.debug(format, *args)

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path != "/faults":
                return self._answer(404, {"message": "not found"})
            self._answer(200, control.state())

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return self._answer(400, {"message": "body must be JSON"})
            name = self.path.removeprefix("/faults/")
            if name in control.proxies:
                try:
                    fault = Fault.from_json(body)
                except (TypeError, ValueError) as exc:
                    return self._answer(400, {"message": str(exc)})
                control.proxies[name].set(fault)
                if body.get("reset_counters"):
                    control.proxies[name].reset_counters()
                return self._answer(200, control.proxies[name].state())
            if self.path == "/mongo/restart":
                try:
                    control.stack.restart_mongo(kill=bool(body.get("kill")))
                except RuntimeError as exc:
                    return self._answer(409, {"message": str(exc)})
                return self._answer(200, {"restarted": True})
            self._answer(404, {"message": "not found"})

    return Handler
