"""``python -m bench.load``: many people authenticating at once against the local stack.

Starts the stack (or uses a running one: ``--stack <state>/ready.json``), enrolls a victim for
the attack mix, runs locust headless in its own process (``bench/load/locustfile.py``,
loopback only, bounded in users and time), samples each function process's memory, then
checks what the run left in MongoDB and prints one table:

- per route: requests, failures, requests/s, p50 / p95 / p99 (ms);
- errors (goal 0), attacks verified (must be 0), decided attempts without an audit record
  (must be 0), the victim's analysed attempts (must equal the lockout's limit once it was
  reached: the rest answered ``locked`` without analysis), live people verified;
- memory of each function's instances at the start and end of the run (MiB).

Exit status 1 when a check fails. ``--json FILE`` writes everything for tests and the docs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devstack.functions import REPO
from devstack.launch import launch_stack
from devstack.seed import demo_face_png

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
ROUTES_ORDER = (
    "POST /admin/enrollments", "POST /v1/transactions", "GET /models/manifest",
    "POST /session (models)", "GET /models/{name}/{version}/segments", "POST /session",
    "POST /verify", "GET /v1/transactions/{id}",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--users", type=int, default=20, help="virtual people at once")
    parser.add_argument("--spawn-rate", type=float, default=5, help="people started per second")
    parser.add_argument("--duration", type=int, default=30, help="seconds of load")
    parser.add_argument(
        "--baseline", type=int, default=0,
        help="first run one person alone for this many seconds (the same run's baseline)",
    )  # fmt: skip
    parser.add_argument("--stack", type=Path, help="a running stack's ready.json (else start one)")
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    with _stack(args.stack) as info:
        baseline = (
            run(info, users=1, spawn_rate=1, duration=args.baseline) if args.baseline else None
        )
        report = run(info, users=args.users, spawn_rate=args.spawn_rate, duration=args.duration)
    if baseline is not None:
        print_report(baseline)
        print()
        report["baseline"] = baseline
        report["p50_ratio_to_one_person"] = {
            name: round(r["p50"] / baseline["routes"][name]["p50"], 2)
            for name, r in report["routes"].items()
            if baseline["routes"].get(name, {}).get("p50")
        }
    print_report(report)
    for name, ratio in report.get("p50_ratio_to_one_person", {}).items():
        print(f"p50 {name}: {ratio}× one person's")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    passed = all(report["checks"].values()) and (
        baseline is None or all(baseline["checks"].values())
    )
    return 0 if passed else 1


@contextmanager
def _stack(ready: Path | None) -> Iterator[dict[str, Any]]:
    if ready is not None:
        yield json.loads(ready.read_text())
        return
    with (
        tempfile.TemporaryDirectory(prefix="secureface-load-") as state,
        launch_stack(Path(state)) as info,
    ):
        yield info


def run(info: dict[str, Any], *, users: int, spawn_rate: float, duration: int) -> dict[str, Any]:
    """One bounded run against the stack described by ``info``; the report."""
    victim = f"load-victim-{time.time_ns()}"
    _enroll(info, victim)
    with tempfile.TemporaryDirectory(prefix="secureface-locust-") as work:
        work_dir = Path(work)
        stack_file, outcomes = work_dir / "stack.json", work_dir / "outcomes.jsonl"
        stack_file.write_text(json.dumps({k: v for k, v in info.items() if k != "process"}))
        outcomes.touch()
        trace = Path(info["mongo_trace"])
        trace_start = len(trace.read_text().splitlines())
        sampler = MemorySampler(int(info["pid"]))
        sampler.start()
        started = time.time()
        command = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{duration}s",
            "--stop-timeout", "60", "--csv", str(work_dir / "run"), "--only-summary",
            "--host", info["urls"]["api"], "--exit-code-on-error", "0", "--loglevel", "WARNING",
        ]  # fmt: skip
        paths = [str(REPO / "layers/secureface"), str(REPO / "tools"), str(REPO)]
        env = {
            **os.environ, "PYTHONPATH": os.pathsep.join(paths),
            "SECUREFACE_LOAD_STACK": str(stack_file), "SECUREFACE_LOAD_OUT": str(outcomes),
            "SECUREFACE_LOAD_VICTIM": victim,
        }  # fmt: skip
        log = work_dir / "locust.log"
        with log.open("wb") as out:
            code = subprocess.call(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        elapsed = time.time() - started
        sampler.stop()
        if code != 0:
            raise RuntimeError(f"locust exited with {code}:\n{log.read_text()[-3000:]}")
        routes = _stats(work_dir / "run_stats.csv")
        attempts = [json.loads(line) for line in outcomes.read_text().splitlines()]
    checks, counts = _check(info, attempts, victim)
    mongo_ops = _mongo_ops(trace.read_text().splitlines()[trace_start:])
    errors = sum(r["failures"] for r in routes.values())
    checks["no request failed"] = errors == 0
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "users": users, "duration_s": duration, "elapsed_s": round(elapsed, 1),
        "routes": routes, "errors": errors, "counts": counts, "checks": checks,
        "memory_mib": sampler.summary(), "mongo_ops": mongo_ops,
    }  # fmt: skip


def _enroll(info: dict[str, Any], subject: str) -> None:
    from secureface.client import AdminClient
    from secureface.encoding import b64url_encode

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        os.environ[name] = info["env"][name]
    AdminClient(info["urls"]["api"]).call(
        "POST",
        "/admin/enrollments",
        {"subject_id": subject, "images": [b64url_encode(demo_face_png())]},
    )


def _stats(path: Path) -> dict[str, dict[str, float]]:
    routes = {}
    with path.open() as f:
        for row in csv.DictReader(f):
            if row["Name"] == "Aggregated":
                continue
            routes[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2), "p50": float(row["50%"]),
                "p95": float(row["95%"]), "p99": float(row["99%"]),
            }  # fmt: skip
    return routes


#: What the driver sends besides the application's reads and writes.
_DRIVER_COMMANDS = {
    "hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo", "saslStart",
    "saslContinue", "killCursors", "createIndexes", "listIndexes",
}  # fmt: skip


def _mongo_ops(lines: list[str]) -> dict[str, int]:
    """MongoDB requests per function during the run (devstack's trace of every command),
    the driver's own handshakes and index checks left out."""
    counts: dict[str, int] = defaultdict(int)
    for record in map(json.loads, lines):
        if record["cmd"] not in _DRIVER_COMMANDS:
            counts[record["function"]] += 1
    return dict(sorted(counts.items()))


def _check(
    info: dict[str, Any], attempts: list[dict[str, str]], victim: str
) -> tuple[dict[str, bool], dict[str, int]]:
    """What the run left in MongoDB against what the clients were told."""
    from pymongo import MongoClient

    db = MongoClient(info["urls"]["mongo"])[info["mongo_db"]]
    decided = [a for a in attempts if not a["outcome"].startswith("http_")]
    audited = {
        r["session_id"]: r
        for r in db["audit"].find(
            {"kind": "verify", "session_id": {"$in": [a["session_id"] for a in decided]}}
        )
    }
    unaudited = [a for a in decided if a["session_id"] not in audited]
    mismatched = [a for a in decided if a["session_id"] in audited
                  and audited[a["session_id"]]["decision"] != a["outcome"]]  # fmt: skip
    attacks = [a for a in decided if a["kind"] == "attack"]
    genuine = [a for a in decided if a["kind"] == "genuine"]
    analysed = db["audit"].count_documents(
        {"kind": "verify", "subject_id": victim, "decision": {"$ne": "locked"}}
    )
    limit = int(info["env"].get("SECUREFACE_LOCKOUT_MAX_FAILURES", 5))
    counts = {
        "attempts decided": len(decided),
        "attempts undecided (HTTP error)": len(attempts) - len(decided),
        "audit records of decided attempts": len(decided) - len(unaudited),
        "audit records differing from the answer": len(mismatched),
        "attacks": len(attacks),
        "attacks verified": sum(a["outcome"] == "verified" for a in attacks),
        "attacks answered locked": sum(a["outcome"] == "locked" for a in attacks),
        "victim attempts analysed": analysed,
        "lockout limit": limit,
        "live sign-ins": len(genuine),
        "live sign-ins verified": sum(a["outcome"] == "verified" for a in genuine),
    }
    checks = {
        "every decided attempt audited, as answered": not unaudited and not mismatched,
        "no attack verified": counts["attacks verified"] == 0,
        "victim analysed exactly up to the limit": analysed == min(limit, len(attacks)),
    }
    return checks, counts


class MemorySampler:
    """Resident memory of every function instance (children of the devstack process running
    ``devstack.worker``) every second; read from /proc, nothing is signalled."""

    def __init__(self, devstack_pid: int) -> None:
        self.devstack_pid = devstack_pid
        #: (function, pid) -> [MiB at each sample]
        self.samples: dict[tuple[str, int], list[float]] = defaultdict(list)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            for function, pid, rss in _instances(self.devstack_pid):
                self.samples[(function, pid)].append(rss)

    def summary(self) -> dict[str, dict[str, float]]:
        """Per function: instances seen, the largest instance's MiB, and the largest growth of
        one instance from the middle of its life to its end (a leak grows with requests;
        loading models at a cold start happens before the middle)."""
        functions: dict[str, list[list[float]]] = defaultdict(list)
        for (function, _), series in self.samples.items():
            functions[function].append(series)
        return {
            function: {
                "instances": len(all_series),
                "peak": round(max(max(s) for s in all_series), 1),
                "growth_second_half": round(max(s[-1] - s[len(s) // 2] for s in all_series), 1),
            }
            for function, all_series in sorted(functions.items())
        }


def _instances(parent: int) -> Iterator[tuple[str, int, float]]:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0")) != parent or b"devstack.worker" not in cmdline:
            continue
        code_uri = Path(cmdline[cmdline.index(b"devstack.worker") + 1].decode())
        rss_kib = float(fields.get("VmRSS", "0 kB").split()[0])
        yield code_uri.name, int(proc.name), rss_kib / 1024


def print_report(report: dict[str, Any]) -> None:
    print(f"machine: {report['machine']}; {report['users']} people for {report['duration_s']} s")
    header = ("route", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms")
    rows = [header]
    names = sorted(
        report["routes"], key=lambda n: ROUTES_ORDER.index(n) if n in ROUTES_ORDER else 99
    )
    for name in names:
        r = report["routes"][name]
        rows.append((name, str(r["requests"]), str(r["failures"]), f"{r['rps']:.2f}",
                     f"{r['p50']:.0f}", f"{r['p95']:.0f}", f"{r['p99']:.0f}"))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if i == 0:
            print(" | ".join("-" * w for w in widths))
    print()
    for what, count in report["counts"].items():
        print(f"{what}: {count}")
    for function, mem in report["memory_mib"].items():
        print(
            f"memory {function}: {mem['instances']:.0f} instances, largest {mem['peak']} MiB, "
            f"growth over the second half of an instance's run ≤ {mem['growth_second_half']} MiB"
        )
    ops = report["mongo_ops"]
    print(f"MongoDB requests: {ops} ({sum(ops.values())} in all)")
    for check, ok in report["checks"].items():
        print(f"{'ok  ' if ok else 'FAIL'} {check}")


if __name__ == "__main__":
    sys.exit(main())
