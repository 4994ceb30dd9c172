"""faultproxy: a TCP proxy that breaks a dependency on demand (test tooling, never deployed).

The local stack (``devstack up --faults``) puts one in front of MongoDB and one in front of
moto (S3, KMS, Secrets Manager) for the emulated functions only; tests switch faults through
the stack's control endpoint while the functions keep running, as a database or an AWS
endpoint fails under a deployed Lambda:

- ``pass``: forward bytes unchanged.
- ``down``: the dependency has stopped: every open connection is closed at once and new ones
  are closed as soon as they are accepted (the client sees its peer go away).
- ``hang``: the dependency stops answering: connections stay open, nothing is forwarded.
- ``delay``: every forwarded chunk waits ``delay_ms`` first (both directions): a slow network
  or an overloaded server.
- ``drop`` (MongoDB): a request whose command and collection match a rule, e.g.
  ``("insert", "audit")``, closes its connection before the server sees it — the fault lands
  on exactly one step of a use case (the audit write after a match, say), which is where a
  fail-open bug would hide. MongoDB's wire protocol is parsed just enough for this (OP_MSG,
  body section, first key = command, its value = collection).

What it does not model: partial writes the server applied before dying (a dropped request
never reaches the server), packet loss below TCP, TLS. Stopped processes are tested by
restarting the real MongoDB server (``devstack``'s ``/mongo/restart``), not by this proxy.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

log = logging.getLogger(__name__)

MODES = ("pass", "down", "hang", "delay")
_OP_MSG = 2013
_HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode
_MAX_MESSAGE = 48 * 1024 * 1024


@dataclass(frozen=True)
class Fault:
    """What the proxy does now."""

    mode: str = "pass"
    delay_ms: int = 0
    #: MongoDB only: ``(command, collection)`` pairs ("*" matches any) whose request drops
    #: its connection; forwarded normally otherwise.
    drop: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        mode = str(data.get("mode", "pass"))
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        delay = int(data.get("delay_ms", 0))
        if not 0 <= delay <= 120_000:
            raise ValueError("delay_ms must be 0..120000")
        drop = tuple((str(c), str(n)) for c, n in data.get("drop", ()))
        return cls(mode, delay, drop)

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "delay_ms": self.delay_ms, "drop": [list(d) for d in self.drop]}

    def drops(self, command: str, collection: str) -> bool:
        return any(c in ("*", command) and n in ("*", collection) for c, n in self.drop)


@dataclass
class Counters:
    connections: int = 0
    refused: int = 0
    dropped: list[tuple[str, str]] = field(default_factory=list)


def mongo_command(message: bytes) -> tuple[str, str] | None:
    """``(command, collection)`` of an OP_MSG request, or None for anything else."""
    if len(message) < 21 or _HEADER.unpack_from(message)[3] != _OP_MSG:
        return None
    if message[20] != 0:  # the first section must be the body (kind 0)
        return None
    import bson

    try:
        body = bson.decode(message[21 : 21 + int.from_bytes(message[21:25], "little")])
    except Exception:  # not ours to judge: forward it
        return None
    if not body:
        return None
    command, value = next(iter(body.items()))
    return str(command), value if isinstance(value, str) else ""


class FaultProxy:
    """``127.0.0.1:port`` → ``upstream``, with a switchable :class:`Fault`."""

    def __init__(
        self, name: str, upstream: tuple[str, int], *, mongo: bool = False, port: int = 0
    ) -> None:
        self.name = name
        self.upstream = upstream
        self.mongo = mongo
        self._fault = Fault()
        self._changed = threading.Condition()
        self._open: set[socket.socket] = set()
        self.counters = Counters()
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port = int(self._listener.getsockname()[1])
        self._closed = False
        threading.Thread(target=self._accept, name=f"faultproxy-{name}", daemon=True).start()

    @property
    def fault(self) -> Fault:
        return self._fault

    def set(self, fault: Fault) -> None:
        """Switch to ``fault``; ``down`` closes every open connection now."""
        with self._changed:
            self._fault = fault
            self._changed.notify_all()
        if fault.mode == "down":
            self._close_all()
        log.info("fault %s: %s", self.name, fault.to_json())

    def state(self) -> dict[str, Any]:
        return {
            **self._fault.to_json(),
            "connections": self.counters.connections,
            "refused": self.counters.refused,
            "dropped": [list(d) for d in self.counters.dropped],
        }

    def reset_counters(self) -> None:
        self.counters = Counters()

    def close(self) -> None:
        self._closed = True
        self.set(replace(self._fault, mode="down"))
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._fault.mode == "down":
                self.counters.refused += 1
                _close(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            self.counters.connections += 1
            with self._changed:
                self._open.update((client, server))
            up = self._pump_mongo if self.mongo else self._pump
            threading.Thread(target=up, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _gate(self) -> bool:
        """Wait while the fault says to; False when the connection must end."""
        with self._changed:
            while self._fault.mode == "hang" and not self._closed:
                self._changed.wait(0.5)
            fault = self._fault
        if fault.mode == "down" or self._closed:
            return False
        if fault.mode == "delay" and fault.delay_ms:
            time.sleep(fault.delay_ms / 1000)
        return True

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                if not self._gate():
                    break
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            self._end(source, target)

    def _pump_mongo(self, source: socket.socket, target: socket.socket) -> None:
        """Client → MongoDB, one whole message at a time (to see each command)."""
        try:
            while header := _read_exactly(source, _HEADER.size):
                length = _HEADER.unpack(header)[0]
                if not _HEADER.size <= length <= _MAX_MESSAGE:
                    break
                message = header + _read_exactly(source, length - _HEADER.size)
                if len(message) != length or not self._gate():
                    break
                command = mongo_command(message)
                if command is not None and self._fault.drops(*command):
                    self.counters.dropped.append(command)
                    log.info("fault %s: dropped %s", self.name, command)
                    break
                target.sendall(message)
        except OSError:
            pass
        finally:
            self._end(source, target)

    def _end(self, *sockets: socket.socket) -> None:
        with self._changed:
            for sock in sockets:
                self._open.discard(sock)
        for sock in sockets:
            _close(sock)

    def _close_all(self) -> None:
        with self._changed:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
