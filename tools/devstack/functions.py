"""Emulated Lambda instances: a pool of worker processes per function, started on demand.

Each instance is a separate process (as each Lambda instance is), so cold starts, per-instance
caches and per-function environments behave as deployed. Instances are stopped by pid.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from devstack import procs
from devstack.template import FunctionSpec

REPO = Path(__file__).resolve().parents[2]
CORE_LAYER = REPO / "layers" / "secureface"


class FunctionError(Exception):
    """The function failed (raised, crashed or timed out), as Lambda would report it."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class _Instance:
    def __init__(self, spec: FunctionSpec, env: dict[str, str], log_path: Path) -> None:
        read_fd, write_fd = os.pipe()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "devstack.worker",
                    str(spec.code_uri),
                    spec.handler,
                    str(write_fd),
                ],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                env=env,
            )
        os.close(write_fd)
        self.answers = os.fdopen(read_fd, "r")
        self.timeout_s = spec.timeout_s
        if self._read(timeout=60.0) != {"ready": True}:
            raise FunctionError("InitError")

    def _read(self, *, timeout: float) -> Any:
        ready, _, _ = select.select([self.answers], [], [], timeout)
        if not ready:
            raise FunctionError("Timeout")
        line = self.answers.readline()
        if not line:
            raise FunctionError("Crashed")
        return json.loads(line)

    def invoke(self, event: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(event) + "\n").encode())
        self.proc.stdin.flush()
        return self._read(timeout=float(self.timeout_s))

    def close(self) -> None:
        procs.stop(self.proc)  # type: ignore[arg-type]
        self.answers.close()


class FunctionPool:
    """Up to ``max_instances`` warm instances of one function."""

    def __init__(
        self, spec: FunctionSpec, env: dict[str, str], log_dir: Path, max_instances: int = 4
    ) -> None:
        self.spec = spec
        self.env = {
            **env,
            "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "SECUREFACE_LOCAL_TIMEOUT_S": str(spec.timeout_s),
            "PYTHONPATH": os.pathsep.join([str(CORE_LAYER), str(REPO / "tools")]),
        }
        self.log_path = log_dir / f"{spec.logical_id}.log"
        self._idle: list[_Instance] = []
        self._all: list[_Instance] = []
        self._slots = threading.BoundedSemaphore(max_instances)
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """Run ``event`` on a warm instance (or a new one); raises FunctionError on failure."""
        with self._slots:
            instance = self._checkout()
            try:
                answer = instance.invoke(event)
            except FunctionError:
                self._discard(instance)
                raise
            with self._lock:
                self._idle.append(instance)
        if "error" in answer:
            raise FunctionError(str(answer["error"]))
        return (
            dict(answer["response"])
            if isinstance(answer["response"], dict)
            else {"body": answer["response"]}
        )

    def _checkout(self) -> _Instance:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        instance = _Instance(self.spec, self.env, self.log_path)
        with self._lock:
            self._all.append(instance)
        return instance

    def _discard(self, instance: _Instance) -> None:
        with self._lock:
            if instance in self._all:
                self._all.remove(instance)
        instance.close()

    def pids(self) -> list[int]:
        with self._lock:
            return [i.proc.pid for i in self._all]

    def close(self) -> None:
        with self._lock:
            instances, self._all, self._idle = list(self._all), [], []
        for instance in instances:
            instance.close()
