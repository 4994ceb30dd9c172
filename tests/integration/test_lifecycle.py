"""The stack's own lifecycle: Ctrl-C stops every process it started, a second run reuses the
MongoDB data, and a model replaced in storage is refused by the server."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from devstack import procs
from tests.conftest import launch_stack
from tests.helpers import (
    client_for,
    database,
    error_body,
    http,
    models_session,
    replace_stored_model,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def descendants(pid: int) -> set[procs.ProcessId]:
    """Every live process whose ancestry includes ``pid``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(stat[1])
            except (OSError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {p for p in map(procs.ProcessId.of, found) if p is not None}


def test_model_replaced_in_storage_is_refused_by_the_server(tmp_path: Path) -> None:
    with launch_stack(tmp_path) as info:
        replace_stored_model(info)
        session = models_session(client_for(info), info)
        status, _, body = http(
            "GET", info["urls"]["api"] + "/models/yunet/2023mar/segments?first=0&count=1",
            headers={"X-SecureFace-Session": session.session_id},
        )  # fmt: skip
        assert status == 503 and error_body(body)["code"] == "model_unavailable"
        status, _, _ = http(
            "GET", info["urls"]["api"] + "/models/antispoof/human-3.3.6/segments?first=0&count=1",
            headers={"X-SecureFace-Session": session.session_id},
        )  # fmt: skip
        assert status == 200  # the untouched models are still served


def test_ctrl_c_stops_every_process_and_a_second_run_reuses_state(tmp_path: Path) -> None:
    with launch_stack(tmp_path) as info:
        models_session(client_for(info), info)  # starts function instances too
        database(info)["marker"].insert_one({"_id": "kept"})
        proc = info["process"]
        started = descendants(proc.pid)
        external_mongo = bool(os.environ.get("SECUREFACE_TEST_MONGO_URI"))
        assert len(started) >= (2 if external_mongo else 3)  # moto, nx-27017, a function worker
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    assert not any(p.alive() for p in started), "a child outlived Ctrl-C"
    assert not (tmp_path / "pids.json").exists()
    with launch_stack(tmp_path) as again:
        marker = database(again)["marker"]
        assert marker.find_one({"_id": "kept"}) == {"_id": "kept"}
        assert again["public_key_pem"] == info["public_key_pem"]  # KMS keys persisted too
        assert again["manifest_public_key_pem"] == info["manifest_public_key_pem"]
        marker.delete_one({"_id": "kept"})
        status, _, _ = http("GET", again["urls"]["api"] + "/models/manifest")
        assert status == 200


def test_leftover_children_of_a_crashed_run_are_stopped(tmp_path: Path) -> None:
    with launch_stack(tmp_path) as info:
        proc = info["process"]
        # Identified by pid and start time: a test run goes round pid_max, so a bare pid may
        # name some new process (or thread) by the time it is checked.
        children = [procs.ProcessId.of(p) for p in info["children"]]
        assert None not in children
        os.kill(proc.pid, signal.SIGKILL)  # a crash: no cleanup ran
        proc.wait()
        assert all(p is not None and p.alive() for p in children)
        with launch_stack(tmp_path) as again:
            survivors = [p for p in children if p is not None and p.alive()]
            said = (tmp_path / "devstack.log").read_text().splitlines()
            assert not survivors, (
                [(p, procs.pid_cmdline(p.pid)) for p in survivors],
                [line for line in said if "leftover" in line],
            )
            assert again["children"] != [p.pid for p in children if p is not None]
