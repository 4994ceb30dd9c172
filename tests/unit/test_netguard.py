"""The tests' network guard (tests/netguard.py) holds: a unit test reaches nothing, a test
marked ``loopback`` reaches 127.0.0.1 only, and no test resolves or reaches another host."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from tests.netguard import Guard, NetworkGuardError


def test_a_unit_test_connects_to_nothing_not_even_loopback() -> None:
    with socket.socket() as s, pytest.raises(NetworkGuardError, match="mark it"):
        s.connect(("127.0.0.1", 9))


@pytest.mark.loopback
def test_a_loopback_test_reaches_its_own_server_on_127_0_0_1() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server, socket.socket() as client:
        client.connect(server.getsockname())
        conn, _ = server.accept()
        conn.close()


@pytest.mark.loopback
@pytest.mark.parametrize("host", ["192.0.2.1", "10.0.0.1", "2001:db8::1", "example.com"])
def test_no_test_reaches_another_host(host: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s, pytest.raises(NetworkGuardError, match="loopback only"):
        s.connect((host, 443))


@pytest.mark.loopback
def test_no_test_resolves_a_public_name_or_downloads_anything() -> None:
    with pytest.raises(NetworkGuardError):
        socket.getaddrinfo("pypi.org", 443)
    with pytest.raises(urllib.error.URLError) as refused:  # urllib wraps the guard's error
        urllib.request.urlopen("https://huggingface.co/", timeout=1)
    assert isinstance(refused.value.reason, NetworkGuardError)


def test_the_ci_mongodb_service_is_the_one_other_host_and_its_address_once_resolved() -> None:
    """GitHub Actions' ``mongo`` service: the name is allowed, and the address it resolves to
    (a client connects to the address, not the name), and nothing else."""
    guard = Guard(["mongo"])
    assert guard.allowed("mongo") and guard.allowed("::1") and guard.allowed("127.0.0.53")
    assert not guard.allowed("mongo.example") and not guard.allowed("8.8.8.8")
    service = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("172.18.0.2", 27017))
    guard._getaddrinfo = lambda *args, **kwargs: [service]  # what Docker's DNS answers
    assert not guard.allowed("172.18.0.2")
    assert guard.resolve("mongo", 27017) == [service]
    guard.check(socket.AF_INET, ("172.18.0.2", 27017))  # allowed now
    with pytest.raises(NetworkGuardError):
        guard.check(socket.AF_INET, ("172.18.0.3", 27017))
    with pytest.raises(NetworkGuardError):
        guard.resolve("mongo.example", 27017)
