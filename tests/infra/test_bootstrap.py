"""``deploy/bootstrap.yaml`` (issue 11): the one-time OIDC provider, deploy role and
CloudFormation execution role, as code instead of a policy to copy by hand. Checked against
what ``deploy.yml`` actually calls and what ``template.yaml`` actually names."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.template import load_template

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "deploy" / "bootstrap.yaml"
STACK = "secureface"
ACCOUNT, REGION, PARTITION = "123456789012", "eu-west-1", "aws"

#: What each command of the deploy workflow needs from the deploy role (IAM actions).
NEEDS = {
    "sam deploy": {
        "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
        "cloudformation:ExecuteChangeSet", "cloudformation:DescribeStacks",
        "cloudformation:DescribeStackEvents", "cloudformation:GetTemplateSummary",
        "iam:PassRole", "s3:PutObject", "s3:GetObject", "s3:ListBucket",
    },
    "aws cloudformation describe-stacks": {"cloudformation:DescribeStacks"},
    "aws s3 sync": {"s3:ListBucket", "s3:PutObject", "s3:DeleteObject"},
    "aws s3 cp": {"s3:PutObject"},
    "aws cloudfront create-invalidation": {"cloudfront:CreateInvalidation"},
    "python -m secureface models publish": {
        "s3:GetObject", "s3:PutObject", "s3:ListBucket", "kms:Sign", "kms:GetPublicKey",
        "kms:GenerateDataKey", "kms:Decrypt",
    },
    "python -m secureface frontend-config": {"kms:GetPublicKey"},
}  # fmt: skip


@pytest.fixture(scope="module")
def bootstrap() -> dict[str, Any]:
    return load_template(BOOTSTRAP)


def resolve(value: Any) -> Any:
    """``!Sub`` strings with this test's account, region and stack name (``!GetAtt`` kept)."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for name, real in (("AWS::AccountId", ACCOUNT), ("AWS::Region", REGION),
                           ("AWS::Partition", PARTITION), ("StackName", STACK)):  # fmt: skip
            text = text.replace("${" + name + "}", real)
        return text
    if isinstance(value, list):
        return [resolve(v) for v in value]
    return value


def statements(bootstrap: dict[str, Any], role: str) -> list[dict[str, Any]]:
    props = bootstrap["Resources"][role]["Properties"]
    return [s for policy in props["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_cfn_lint_passes() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(BOOTSTRAP)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_only_the_repositorys_production_environment_can_assume_the_deploy_role(
    bootstrap: dict[str, Any],
) -> None:
    (trust,) = bootstrap["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert resolve(trust["Principal"]["Federated"]).endswith(
        ":oidc-provider/token.actions.githubusercontent.com"
    )
    equals = trust["Condition"]["StringEquals"]
    assert equals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert equals["token.actions.githubusercontent.com:sub"] == {
        "Fn::Sub": "repo:${GitHubOwner}/${GitHubRepo}:environment:production"
    }
    assert set(trust["Condition"]) == {"StringEquals"}  # no StringLike wildcard anywhere


def test_the_deploy_role_can_do_what_the_workflow_does_and_no_iam_beyond_one_pass_role(
    bootstrap: dict[str, Any],
) -> None:
    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    script = "\n".join(
        step.get("run", "") for job in deploy["jobs"].values() for step in job.get("steps", [])
    )
    allowed = {a for s in statements(bootstrap, "DeployRole") for a in actions(s)}
    used = [command for command in NEEDS if command in script]
    assert len(used) == len(NEEDS), set(NEEDS) - set(used)
    calls = set(re.findall(r"\baws ([a-z0-9-]+ [a-z0-9-]+)", script))
    assert {f"aws {c}" for c in calls} <= set(NEEDS), calls  # a new call needs a row above
    for command in used:
        assert NEEDS[command] <= allowed, (command, NEEDS[command] - allowed)
    iam = [
        s
        for s in statements(bootstrap, "DeployRole")
        if any(a.startswith("iam:") for a in actions(s))
    ]
    (pass_role,) = iam
    assert actions(pass_role) == ["iam:PassRole"]
    assert pass_role["Resource"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    assert pass_role["Condition"]["StringEquals"]["iam:PassedToService"] == (
        "cloudformation.amazonaws.com"
    )
    assert not any("*" in a for a in allowed)


def test_only_the_manifest_key_signs_for_the_deploy_role(bootstrap: dict[str, Any]) -> None:
    for statement in statements(bootstrap, "DeployRole"):
        if "kms:Sign" in actions(statement):
            aliases = statement["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"]
            assert resolve(aliases) == f"alias/{STACK}/manifest"


def test_the_execution_role_is_cloudformations_and_passes_roles_to_lambda_only(
    bootstrap: dict[str, Any],
) -> None:
    props = bootstrap["Resources"]["ExecutionRole"]["Properties"]
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "cloudformation.amazonaws.com"}
    for statement in statements(bootstrap, "ExecutionRole"):
        assert not any(a.endswith(":*") or a == "*" for a in actions(statement)), statement
        if "iam:PassRole" in actions(statement):
            assert statement["Condition"]["StringEquals"]["iam:PassedToService"] == (
                "lambda.amazonaws.com"
            )
        if any(a.startswith("iam:") for a in actions(statement)):
            for arn in (
                resolve(statement["Resource"])
                if isinstance(statement["Resource"], list)
                else [resolve(statement["Resource"])]
            ):
                assert f":role/{STACK}-" in arn or f":policy/{STACK}-" in arn, arn


def _execution_resources(bootstrap: dict[str, Any], service: str) -> list[str]:
    found = []
    for statement in statements(bootstrap, "ExecutionRole"):
        if not any(a.startswith(service + ":") for a in actions(statement)):
            continue
        for arn in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        ):
            if isinstance(arn, dict) and "Fn::If" in arn:
                arn = arn["Fn::If"][1]
            found.append(resolve(arn))
    return found


@pytest.mark.parametrize(
    ("service", "kind", "prop", "arn"),
    [
        ("logs", "AWS::Logs::", "LogGroupName", "arn:aws:logs:{r}:{a}:log-group:{name}"),
        ("lambda", "AWS::Serverless::LayerVersion", "LayerName",
         "arn:aws:lambda:{r}:{a}:layer:{name}"),
        ("kms", "AWS::KMS::Alias", "AliasName", "arn:aws:kms:{r}:{a}:{name}"),
        ("secretsmanager", "AWS::SecretsManager::", "Name",
         "arn:aws:secretsmanager:{r}:{a}:secret:{name}"),
        ("ssm", "AWS::SSM::", "Name", "arn:aws:ssm:{r}:{a}:parameter{name}"),
        ("cloudwatch", "AWS::CloudWatch::Dashboard", "DashboardName",
         "arn:aws:cloudwatch::{a}:dashboard/{name}"),
    ],
)  # fmt: skip
def test_the_execution_role_covers_every_name_the_template_gives(
    bootstrap: dict[str, Any], service: str, kind: str, prop: str, arn: str
) -> None:
    """Each named resource of template.yaml falls under the execution role's patterns for its
    service (so a renamed resource fails here, not in a deploy)."""
    template = load_template(ROOT / "template.yaml")
    names = []
    for resource in template["Resources"].values():
        if not resource["Type"].startswith(kind):
            continue
        value = resource.get("Properties", {}).get(prop)
        if isinstance(value, dict) and "Fn::If" in value:
            value = value["Fn::If"][2]  # the default (no MongoSecretPrefix)
        if isinstance(value, dict) and "Fn::Sub" in value:
            names.append(value["Fn::Sub"].replace("${AWS::StackName}", STACK))
    assert names, f"no named {service} resource found in the template"
    patterns = _execution_resources(bootstrap, service)
    for name in names:
        concrete = arn.format(r=REGION, a=ACCOUNT, name=name)
        assert any(fnmatch.fnmatchcase(concrete, p) for p in patterns), (concrete, patterns)
