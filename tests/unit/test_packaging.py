"""The package an adopter installs: ``pip install secureface[client]`` (issue 12).

The wheel is built from this tree with the pinned build backend (no build isolation, nothing
downloaded) in a copy, so the tree is left as it was; GitHub Actions' ``package`` job installs
``.[client]`` from the registry in a clean virtual environment and runs the console script.
"""

from __future__ import annotations

import email.parser
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.blocker import blocker

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers/secureface/secureface"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: What the base install must not need: everything only an extra brings.
NOT_IN_BASE = (
    "numpy",
    "PIL",
    "onnxruntime",
    "boto3",
    "botocore",
    "pymongo",
    "aws_lambda_powertools",
)


def requirement_name(line: str) -> str:
    """``aws-lambda-powertools[tracer]==3.37.0`` → ``aws-lambda-powertools``."""
    return re.split(r"[\[=<>~! ;]", line.strip(), maxsplit=1)[0].lower()


def pins(path: Path) -> dict[str, str]:
    """Exact pins of a layer's requirements file: name → version."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            found[requirement_name(name)] = version.strip()
    return found


def bounds(requirements: list[str]) -> dict[str, str]:
    """Lower bounds of pyproject requirements: name → version."""
    return {requirement_name(r): r.split(">=", 1)[1] for r in requirements}


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built in a copy of the files the build reads."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE", "NOTICE"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PACKAGE, src / "layers/secureface/secureface", ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (built,) = out.glob("secureface-*.whl")
    return built


def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(z.read(name).decode())


def test_the_wheel_holds_exactly_the_package_its_licence_and_its_types(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    sources = {
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".typed")
    }
    assert {n for n in names if not n.startswith("secureface-")} == sources
    assert "secureface/py.typed" in sources
    info = {n.split("/", 1)[1] for n in names if n.startswith("secureface-")}
    assert {"licenses/LICENSE", "licenses/NOTICE", "entry_points.txt"} <= info
    meta = metadata(wheel)
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["Requires-Python"] == PYPROJECT["project"]["requires-python"]


def test_the_licence_is_the_apache_license_2() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License")
    assert "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text


def test_the_console_script_is_the_cli(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt")]
        entry = z.read(name).decode()
    assert "[console_scripts]\nsecureface = secureface.cli:main" in entry


def test_the_base_install_needs_only_cryptography(wheel: Path) -> None:
    meta = metadata(wheel)
    base = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert [requirement_name(r) for r in base] == ["cryptography"]
    assert set(meta.get_all("Provides-Extra") or []) == {"client", "server", "ml"}


def test_the_extras_name_the_packages_the_layers_pin_at_or_below_their_pins() -> None:
    """One list of packages: the ``server`` and ``ml`` extras are the layers' requirements, the
    base dependency is in the core layer, and no lower bound is above what is deployed."""
    extras = PYPROJECT["project"]["optional-dependencies"]
    core = pins(ROOT / "layers/secureface/requirements.txt")
    ml = pins(ROOT / "layers/ml/requirements.txt")
    base = bounds(PYPROJECT["project"]["dependencies"])
    assert set(bounds(extras["server"])) | set(base) == set(core)
    assert set(bounds(extras["ml"])) == set(ml)
    assert set(bounds(extras["client"])) <= set(core)
    deployed = core | ml
    for group in (base, *(bounds(reqs) for reqs in extras.values())):
        for name, lowest in group.items():
            assert version_tuple(lowest) <= version_tuple(deployed[name]), name


def test_a_relying_party_and_the_cli_import_with_the_base_dependency_only() -> None:
    """``secureface.rp`` (a bank's backend), ``secureface.client`` and the CLI's parser import
    with numpy, Pillow, onnxruntime, boto3, pymongo and Powertools all unavailable."""
    script = blocker(NOT_IN_BASE, "not a base dependency") + (
        "import secureface.rp, secureface.client, secureface.transactions.result\n"
        "from secureface.cli import build_parser\n"
        "build_parser().parse_args(['token', 'verify', '--help'])\n"
    )
    done = run_isolated(script, str(ROOT / "layers/secureface"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage: secureface token verify" in done.stdout


def test_the_blocker_would_see_a_dependency_outside_the_base() -> None:
    script = blocker(NOT_IN_BASE, "not a base dependency") + "import secureface.verify.liveness\n"
    done = run_isolated(script, str(ROOT / "layers/secureface"))
    assert done.returncode != 0 and "not a base dependency" in done.stderr


def test_the_installed_wheel_runs_its_console_script(wheel: Path, tmp_path: Path) -> None:
    """Installed (into a target folder, no index), the ``secureface`` script runs from the
    installed copy, not from this tree."""
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    script = target / "bin" / "secureface"
    done = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "models" in done.stdout and "doctor" in done.stdout
    where = run_isolated("import secureface; print(secureface.__file__)", str(target))
    assert where.stdout.startswith(str(target))


def run_isolated(script: str, path: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter that sees only ``path`` and the environment's
    site-packages (no tree on the path, no current directory)."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"}, cwd="/",
    )  # fmt: skip
