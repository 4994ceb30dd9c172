"""Child processes started and stopped by pid, never by name.

A pid alone does not name a process for long: once it exits, the kernel hands the number to
the next process or thread (``pid_max`` is 32768 on many machines, and a test run goes round it).
So a process recorded to be checked or stopped later is a :class:`ProcessId`, its pid with its
start time, and is treated as gone once the pid runs anything that started at another time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: How long a SIGKILLed process is waited for (exiting can take a moment on a loaded machine).
KILL_WAIT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different TCP ports on 127.0.0.1 that are free right now (each held until all
    are chosen, so none is handed out twice)."""
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            sock = held.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def wait_for_port(
    port: int, *, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until something accepts connections on 127.0.0.1:``port``.

    Raises:
        RuntimeError: ``proc`` exited, or the port stayed closed for ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"process {proc.pid} exited with {proc.returncode} before port {port} opened"
            )
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5),
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open within {timeout:.0f}s")


def start(
    args: Sequence[str], *, log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``args`` with stdout/stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(args), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )


def stop(proc: subprocess.Popen[bytes], *, grace: float = 5.0) -> None:
    """Stop a child we started (by its pid: :meth:`ProcessId.stop`) and reap it."""
    running = ProcessId.of(proc.pid) if proc.poll() is None else None
    if running is not None:
        running.stop(grace=grace)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 on); [] if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


@dataclass(frozen=True)
class ProcessId:
    """One process: its pid and its start time (clock ticks after boot, ``stat`` field 22)."""

    pid: int
    started: int

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        """The process running as ``pid`` now (None if none does; a zombie has stopped)."""
        fields = _stat(pid)
        if not fields or fields[0] == "Z":
            return None
        return cls(pid, int(fields[19]))

    def alive(self) -> bool:
        """Whether this very process still runs (not merely something under its pid)."""
        return ProcessId.of(self.pid) == self

    def stop(self, *, grace: float = 5.0) -> None:
        """SIGTERM this process, SIGKILL it after ``grace`` seconds, and return once it has gone
        (or :data:`KILL_WAIT` seconds after the SIGKILL); never signal another process.

        The signals go through a pidfd opened before the identity check, so a pid handed on
        between the check and the signal cannot redirect them (the fd names one process).
        """
        try:
            fd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            return
        except OSError as exc:  # a thread's id (EINVAL), or no pidfds here (ENOSYS): not ours
            log.warning("process %s not stopped: %s", self.pid, exc)
            return
        try:
            if not self.alive():
                return
            for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, KILL_WAIT)):
                try:
                    signal.pidfd_send_signal(fd, sig)
                except ProcessLookupError:
                    return
                exited = select.poll()
                exited.register(fd, select.POLLIN)  # readable once the process has exited
                if exited.poll(wait * 1000):
                    return
        finally:
            os.close(fd)


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader polling for it sees nothing or all of it
    (a temporary file renamed into place)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def pid_cmdline(pid: int) -> str:
    """The command line of ``pid`` ('' if gone)."""
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""
