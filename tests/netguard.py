"""The tests' network guard: the test process talks to loopback only (the brief: "tests talk to
127.0.0.1 only"), and a unit test to nothing at all unless it says it starts its own server.

Installed for the whole session by ``tests/conftest.py``; the servers the stack starts are other
processes (they listen on loopback, checked by ``tests/integration``). The one other host allowed
is the MongoDB that GitHub Actions provides as a service container (its name is in
``SECUREFACE_TEST_MONGO_URI``, e.g. ``mongo``)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class NetworkGuardError(ConnectionRefusedError):
    """A test tried to reach a host it must not."""


class Guard:
    """Patches :mod:`socket` so connections and name lookups go to allowed hosts only."""

    def __init__(self, extra_hosts: Iterable[str] = ()) -> None:
        self.extra_hosts = frozenset(h.lower() for h in extra_hosts if h)
        #: The addresses the extra hosts resolved to: a client resolves the name, then connects
        #: to the address (pymongo does), so the address is what ``connect`` sees.
        self.extra_addresses: set[str] = set()
        self.strict = False  # a unit test: no connection at all
        self._connect = socket.socket.connect
        self._connect_ex = socket.socket.connect_ex
        self._getaddrinfo = socket.getaddrinfo

    def allowed(self, host: Any) -> bool:
        if not isinstance(host, str):
            return False
        name = host.lower().strip("[]")
        if name in LOOPBACK_NAMES or name in self.extra_hosts or name in self.extra_addresses:
            return True
        try:
            return ipaddress.ip_address(name.split("%")[0]).is_loopback
        except ValueError:
            return False

    def check(self, family: int, address: Any) -> None:
        if family == getattr(socket, "AF_UNIX", None):
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if self.strict:
            raise NetworkGuardError(
                f"a unit test connected to {host!r}: mark it @pytest.mark.loopback if it starts "
                "its own server, or move it to tests/integration"
            )
        if not self.allowed(host):
            raise NetworkGuardError(f"tests talk to loopback only, not {host!r}")

    def resolve(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        """``socket.getaddrinfo`` for allowed hosts only, remembering what an extra host
        resolves to."""
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not self.allowed(name):
            raise NetworkGuardError(f"tests resolve loopback names only, not {host!r}")
        found = self._getaddrinfo(host, *args, **kwargs)
        if isinstance(name, str) and name.lower() in self.extra_hosts:
            self.extra_addresses.update(str(info[4][0]) for info in found)
        return found

    def install(self) -> None:
        guard = self

        def connect(sock: socket.socket, address: Any) -> None:
            guard.check(sock.family, address)
            guard._connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            guard.check(sock.family, address)
            return guard._connect_ex(sock, address)

        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = guard.resolve

    def uninstall(self) -> None:
        socket.socket.connect = self._connect  # type: ignore[method-assign]
        socket.socket.connect_ex = self._connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = self._getaddrinfo
