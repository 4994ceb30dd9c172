"""Shared fixtures. The local stack is started once per session by the real ``devstack up``
command (moto server, a MongoDB wire server or the real MongoDB named by
``SECUREFACE_TEST_MONGO_URI``, the local API, the frontend server) and stopped by pid."""

from __future__ import annotations

import contextlib
import hashlib
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.launch import launch_stack as devstack_launch
from tests.netguard import Guard

REPO = Path(__file__).resolve().parents[1]
GUARD = Guard(
    [urllib.parse.urlsplit(os.environ.get("SECUREFACE_TEST_MONGO_URI", "")).hostname or ""]
)


def pytest_configure(config: pytest.Config) -> None:
    GUARD.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    GUARD.uninstall()


@pytest.fixture(autouse=True)
def _unit_tests_open_no_sockets(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test under ``tests/unit`` connects to nothing unless marked ``loopback`` (it starts
    its own server on 127.0.0.1)."""
    unit = request.node.path.is_relative_to(REPO / "tests" / "unit")
    GUARD.strict = unit and request.node.get_closest_marker("loopback") is None
    try:
        yield
    finally:
        GUARD.strict = False


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@contextlib.contextmanager
def launch_stack(state: Path, *extra: str) -> Iterator[dict[str, Any]]:
    """``devstack.launch.launch_stack``, on the MongoDB GitHub Actions provides when
    ``SECUREFACE_TEST_MONGO_URI`` is set (then with a user per function when
    ``SECUREFACE_TEST_MONGO_USERS`` is set too)."""
    args = list(extra)
    if os.environ.get("SECUREFACE_TEST_MONGO_URI"):
        # One shared MongoDB: each stack (its own KMS keys) gets its own database, so a private
        # stack's templates never overwrite another's; the same state dir finds its data again.
        database = "secureface_" + hashlib.sha256(str(state).encode()).hexdigest()[:12]
        args += ["--mongo-uri", os.environ["SECUREFACE_TEST_MONGO_URI"], "--mongo-db", database]
        if os.environ.get("SECUREFACE_TEST_MONGO_USERS"):  # the server enforces access control
            args.append("--mongo-users")
    with devstack_launch(state, *args) as info:
        yield info


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The running local stack's info (urls, public key, env), shared by integration tests."""
    with launch_stack(tmp_path_factory.mktemp("stack")) as info:
        yield info
