"""Shared fixtures. The local stack is started once per session by the real ``devstack up``
command (moto server, a MongoDB wire server or the real MongoDB named by
``SECUREFACE_TEST_MONGO_URI``, the local API, the frontend server) and stopped by pid."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@contextlib.contextmanager
def launch_stack(state: Path, *extra: str) -> Iterator[dict[str, Any]]:
    """Run ``python -m devstack up`` (with ``extra`` arguments) with its state in ``state``;
    stop it with SIGINT (Ctrl-C)."""
    ready = state / "ready.json"
    ready.unlink(missing_ok=True)
    args = [sys.executable, "-m", "devstack", "up", "--state-dir", str(state),
            "--api-port", "0", "--web-port", "0", "--moto-port", "0", "--mongo-port", "0",
            "--rp-port", "0", "--ready-file", str(ready), *extra]  # fmt: skip
    if os.environ.get("SECUREFACE_TEST_MONGO_URI"):
        # One shared MongoDB: each stack (its own KMS keys) gets its own database, so a private
        # stack's templates never overwrite another's; the same state dir finds its data again.
        database = "secureface_" + hashlib.sha256(str(state).encode()).hexdigest()[:12]
        args += ["--mongo-uri", os.environ["SECUREFACE_TEST_MONGO_URI"], "--mongo-db", database]
        if os.environ.get("SECUREFACE_TEST_MONGO_USERS"):  # the server enforces access control
            args.append("--mongo-users")
    paths = [str(REPO / "tools"), str(REPO / "layers/secureface")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    log_path = state / "devstack.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"devstack did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)
        info: dict[str, Any] = json.loads(ready.read_text())
        info["state_dir"] = str(state)
        info["process"] = proc
        yield info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The running local stack's info (urls, public key, env), shared by integration tests."""
    with launch_stack(tmp_path_factory.mktemp("stack")) as info:
        yield info
