"""Shared fixtures. The local stack is started once per session by the real ``devstack up``
command (moto server, a MongoDB wire server or the real MongoDB named by
``SECUREFACE_TEST_MONGO_URI``, the local API, the frontend server) and stopped by pid."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The running local stack's info (urls, public key, env), for integration tests."""
    state = tmp_path_factory.mktemp("stack")
    ready = state / "ready.json"
    args = [sys.executable, "-m", "devstack", "up", "--state-dir", str(state),
            "--api-port", "0", "--web-port", "0", "--moto-port", "0", "--mongo-port", "0",
            "--ready-file", str(ready)]  # fmt: skip
    if os.environ.get("SECUREFACE_TEST_MONGO_URI"):
        args += ["--mongo-uri", os.environ["SECUREFACE_TEST_MONGO_URI"]]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tools"), str(REPO / "layers/secureface")]),
    }
    log = (state / "devstack.log").open("wb")
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"devstack did not start:\n{(state / 'devstack.log').read_text()[-4000:]}"
                )
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
        log.close()
