"""Run the whole local stack as a child process (``python -m devstack up``) for a test or a
benchmark, and stop it by pid: what ``make dev`` runs, with free ports and its own state."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devstack.functions import REPO


@contextlib.contextmanager
def launch_stack(state: Path, *extra: str) -> Iterator[dict[str, Any]]:
    """Run ``python -m devstack up`` (with ``extra`` arguments) with its state in ``state``;
    yield its info (``ready.json``, plus ``state_dir`` and ``process``); stop it with SIGINT
    (Ctrl-C), then by pid if it does not stop."""
    ready = state / "ready.json"
    ready.unlink(missing_ok=True)
    args = [sys.executable, "-m", "devstack", "up", "--state-dir", str(state),
            "--api-port", "0", "--web-port", "0", "--moto-port", "0", "--mongo-port", "0",
            "--rp-port", "0", "--ready-file", str(ready), *extra]  # fmt: skip
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
