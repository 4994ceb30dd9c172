"""bandit finds nothing of medium severity and confidence in the package and the local stack, and
every ``# nosec`` names the check it silences and says why."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGETS = (ROOT / "layers" / "secureface" / "secureface", ROOT / "tools" / "devstack")

#: ``# nosec B506 - why`` (or ``—``): the check ids, then a reason of at least two words.
REASONED_NOSEC = re.compile(r"#\s*nosec\s+B\d{3}(?:\s*,\s*B\d{3})*\s+[-—]\s+\S+\s+\S+")


def bandit(*paths: Path) -> dict[str, Any]:
    """bandit's JSON report over ``paths`` at medium severity and confidence (and above)."""
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "--recursive", "--quiet", "--format", "json",
         "--severity-level", "medium", "--confidence-level", "medium", *map(str, paths)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(result.stdout)
    assert not report["errors"], report["errors"]
    assert result.returncode == (1 if report["results"] else 0), result.stderr
    return report


def describe(results: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{r['filename']}:{r['line_number']}: {r['test_id']} {r['issue_severity']}/"
        f"{r['issue_confidence']} {r['issue_text']}"
        for r in results
    )


def nosec_comments(source: str) -> Iterator[tuple[int, str]]:
    """The comments (line number, text) that bandit would read as ``nosec``."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and re.search(r"#\s*nosec", token.string):
            yield token.start[0], token.string


def unreasoned_nosecs(*paths: Path) -> list[str]:
    files = [p for path in paths for p in ([path] if path.is_file() else path.rglob("*.py"))]
    return [
        f"{file}:{line}: {comment}"
        for file in sorted(files)
        for line, comment in nosec_comments(file.read_text())
        if not REASONED_NOSEC.search(comment)
    ]


# ------------------------------------------------------------------ the code


def test_bandit_finds_nothing_of_medium_severity_and_confidence() -> None:
    report = bandit(*TARGETS)
    assert not report["results"], describe(report["results"])
    # ... over every module (a wrong path would pass vacuously).
    scanned = {Path(name).resolve() for name in report["metrics"]} - {Path("_totals").resolve()}
    modules = {p.resolve() for target in TARGETS for p in target.rglob("*.py")}
    assert modules and modules <= scanned


def test_every_nosec_names_its_check_and_says_why() -> None:
    assert not unreasoned_nosecs(*TARGETS)


@pytest.mark.parametrize(
    ("comment", "accepted"),
    [
        ("# nosec B506 - a SafeLoader subclass", True),
        ("# noqa: S506  # nosec B506 — a SafeLoader subclass", True),
        ("# nosec B602, B603 - fixed argv from the template", True),
        ("# nosec", False),
        ("# nosec B506", False),
        ("# nosec: yaml_load - safe", False),
        ("#nosec - trust me", False),
    ],
)
def test_a_nosec_without_a_check_id_and_a_reason_is_refused(
    comment: str, accepted: bool, tmp_path: Path
) -> None:
    module = tmp_path / "module.py"
    module.write_text(f"import yaml\n\ndata = yaml.load(text)  {comment}\n")
    assert (not unreasoned_nosecs(tmp_path)) is accepted


# ------------------------------------------------------------------ the check is live

PLANTED = {
    "a shell command": (
        "import subprocess\n\n\ndef run(x):\n    return subprocess.call(x, shell=True)\n",
        "B602",
    ),
    "an unsafe YAML load": ("import yaml\n\n\ndef parse(x):\n    return yaml.load(x)\n", "B506"),
    "unpickling": ("import pickle\n\n\ndef parse(x):\n    return pickle.loads(x)\n", "B301"),
}


@pytest.mark.parametrize("case", PLANTED, ids=list(PLANTED))
def test_bandit_flags_a_planted_finding(case: str, tmp_path: Path) -> None:
    source, expected = PLANTED[case]
    (tmp_path / "planted.py").write_text(source)
    found = {r["test_id"] for r in bandit(tmp_path)["results"]}
    assert expected in found, found
