"""Processes are named by pid and start time: a pid handed on to another process is not the
process recorded under it, and stopping a leftover never signals whatever took its pid."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import procs
from devstack.stack import stop_leftovers

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(SLEEPER)
    try:
        yield proc
    finally:
        procs.stop(proc)


def test_a_process_is_its_pid_and_start_time(sleeper: subprocess.Popen[bytes]) -> None:
    running = procs.ProcessId.of(sleeper.pid)
    assert running is not None and running.pid == sleeper.pid and running.alive()
    sleeper.kill()
    sleeper.wait()
    assert not running.alive()


def test_a_zombie_is_not_running(sleeper: subprocess.Popen[bytes]) -> None:
    running = procs.ProcessId.of(sleeper.pid)
    assert running is not None
    sleeper.kill()
    deadline = time.monotonic() + 10
    while running.alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not running.alive()
    # ... while still in the process table: exited, not yet reaped (a zombie)
    assert sleeper.returncode is None and Path(f"/proc/{sleeper.pid}").exists()
    assert sleeper.poll() is not None  # (reaped only now)


def test_a_pid_running_another_process_is_not_the_recorded_one(
    sleeper: subprocess.Popen[bytes],
) -> None:
    now = procs.ProcessId.of(sleeper.pid)
    assert now is not None
    earlier = procs.ProcessId(now.pid, now.started - 1)  # what held this pid before it
    assert not earlier.alive()
    earlier.stop(grace=0.2)
    assert now.alive()  # the newcomer was not signalled


def test_stop_ends_the_process_even_if_it_ignores_sigterm() -> None:
    stubborn = subprocess.Popen(
        [sys.executable, "-c",
         "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
         " print('ready', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
        target = procs.ProcessId.of(stubborn.pid)
        assert target is not None
        target.stop(grace=0.3)
        assert not target.alive()  # stop returns only once it has gone
        assert stubborn.wait(timeout=5) == -9
    finally:
        procs.stop(stubborn)


def _record(state: Path, entries: list[dict[str, object]]) -> None:
    (state / "pids.json").write_text(json.dumps(entries))


def test_leftovers_recorded_by_a_crashed_run_are_stopped(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    running = procs.ProcessId.of(sleeper.pid)
    assert running is not None
    cmdline = procs.pid_cmdline(sleeper.pid)
    _record(tmp_path, [{"pid": running.pid, "started": running.started, "cmdline": cmdline}])
    stop_leftovers(tmp_path)
    assert not running.alive()
    assert not (tmp_path / "pids.json").exists()


@pytest.mark.parametrize(
    "change",
    [
        {"started": -1},  # the pid now runs a process started at another time
        {"cmdline": "python -m something-else"},  # ...or another command
    ],
)
def test_a_process_that_took_a_leftovers_pid_is_left_alone(
    tmp_path: Path, sleeper: subprocess.Popen[bytes], change: dict[str, object]
) -> None:
    running = procs.ProcessId.of(sleeper.pid)
    assert running is not None
    entry = {"pid": running.pid, "started": running.started,
             "cmdline": procs.pid_cmdline(sleeper.pid), **change}  # fmt: skip
    _record(tmp_path, [entry])
    stop_leftovers(tmp_path)
    assert running.alive()
    assert not (tmp_path / "pids.json").exists()
