"""The fault proxy the fault tests rely on (tools/faultproxy): each mode does what it says,
against a local echo server, and MongoDB requests are recognised by command and collection."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import bson
import pytest

from faultproxy import Fault, FaultProxy, mongo_command

pytestmark = pytest.mark.loopback  # starts its own server on 127.0.0.1


@pytest.fixture
def echo() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=lambda c=conn: _echo(c), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield int(server.getsockname()[1])
    server.close()


def _echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)


def _op_msg(command: dict[str, object]) -> bytes:
    body = b"\x00\x00\x00\x00" + b"\x00" + bson.encode(command)
    return struct.pack("<iiii", 16 + len(body), 1, 0, 2013) + body


def _roundtrip(port: int, data: bytes, timeout: float = 2.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return sock.recv(65536)


def test_pass_forwards_and_delay_delays(echo: int) -> None:
    proxy = FaultProxy("t", ("127.0.0.1", echo))
    assert _roundtrip(proxy.port, b"hello") == b"hello"
    proxy.set(Fault("delay", delay_ms=300))
    started = time.monotonic()
    assert _roundtrip(proxy.port, b"slow") == b"slow"
    assert time.monotonic() - started >= 0.6  # both directions
    proxy.close()


def test_down_closes_and_hang_holds(echo: int) -> None:
    proxy = FaultProxy("t", ("127.0.0.1", echo))
    proxy.set(Fault("down"))
    assert _roundtrip(proxy.port, b"x") == b""  # closed by the proxy
    proxy.set(Fault("hang"))
    with pytest.raises(TimeoutError):
        _roundtrip(proxy.port, b"x", timeout=0.5)
    proxy.close()


def test_a_mongo_request_is_dropped_by_command_and_collection(echo: int) -> None:
    assert mongo_command(_op_msg({"insert": "audit", "$db": "x"})) == ("insert", "audit")
    assert mongo_command(_op_msg({"ping": 1})) == ("ping", "")
    assert mongo_command(b"\x00" * 10) is None
    proxy = FaultProxy("m", ("127.0.0.1", echo), mongo=True)
    proxy.set(Fault(drop=(("insert", "audit"),)))
    keep = _op_msg({"insert": "templates", "$db": "x"})
    assert _roundtrip(proxy.port, keep) == keep
    assert _roundtrip(proxy.port, _op_msg({"insert": "audit", "$db": "x"})) == b""
    assert proxy.counters.dropped == [("insert", "audit")]
    proxy.close()
