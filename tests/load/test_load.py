"""A short load run in the test command (issue 11): 20 people at once for 30 s against the
running stack (``python -m bench.load``, locust in its own process, loopback only).

Speed is measured, not asserted (docs/BENCHMARKS.md records the figures). What is asserted is
what must hold whatever the speed: no request fails, every decided attempt is audited as it
was answered, no attack is verified, and the lockout analyses exactly its limit of attempts on
one victim attacked from many addresses at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def test_twenty_people_at_once_for_thirty_seconds(stack: dict[str, Any], tmp_path: Path) -> None:
    report_path = tmp_path / "load.json"
    command = [
        sys.executable, "-m", "bench.load", "--stack", str(Path(stack["state_dir"]) / "ready.json"),
        "--users", "20", "--spawn-rate", "10", "--duration", "30", "--json", str(report_path),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=400)
    print(done.stdout)
    assert report_path.exists(), done.stdout + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    counts = report["counts"]
    assert report["errors"] == 0, report["routes"]
    assert counts["attempts decided"] >= 10, counts  # the run did load the stack
    assert counts["attempts undecided (HTTP error)"] == 0, counts
    assert counts["audit records of decided attempts"] == counts["attempts decided"], counts
    assert counts["audit records differing from the answer"] == 0, counts
    assert counts["attacks verified"] == 0, counts
    assert counts["victim attempts analysed"] == min(counts["lockout limit"], counts["attacks"])
    assert all(report["checks"].values()), report["checks"]
    assert done.returncode == 0
