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
STACK = "mystack"  # not "secureface": a literal in a pattern must not pass for the parameter
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
#: What ManifestKey's own key policy grants the deploy role instead of its IAM policy
#: (test_only_the_manifest_keys_own_policy_lets_the_deploy_role_sign).
BY_KEY_POLICY = {"kms:Sign"}

#: What CloudFormation needs of the execution role to create each resource type the template
#: declares (SAM's expansions folded into their source: a function's permissions and schedule
#: rule, an HTTP API's stage and access logs). A new type needs a row.
CREATES = {
    "AWS::CloudFront::Distribution": {
        "cloudfront:CreateDistribution", "cloudfront:GetDistribution",
        "cloudfront:UpdateDistribution", "cloudfront:TagResource",
    },
    "AWS::CloudFront::OriginAccessControl": {
        "cloudfront:CreateOriginAccessControl", "cloudfront:GetOriginAccessControl",
    },
    "AWS::CloudFront::ResponseHeadersPolicy": {
        "cloudfront:CreateResponseHeadersPolicy", "cloudfront:GetResponseHeadersPolicy",
    },
    "AWS::CloudWatch::Alarm": {"cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms"},
    "AWS::CloudWatch::Dashboard": {"cloudwatch:PutDashboard", "cloudwatch:GetDashboard"},
    "AWS::IAM::ManagedPolicy": {"iam:CreatePolicy", "iam:GetPolicy"},
    "AWS::IAM::Role": {"iam:CreateRole", "iam:GetRole", "iam:PutRolePolicy"},
    "AWS::KMS::Alias": {"kms:CreateAlias"},
    "AWS::KMS::Key": {
        "kms:CreateKey", "kms:DescribeKey", "kms:PutKeyPolicy", "kms:EnableKeyRotation",
    },
    "AWS::Logs::LogGroup": {"logs:CreateLogGroup", "logs:PutRetentionPolicy"},
    "AWS::S3::Bucket": {
        "s3:CreateBucket", "s3:PutEncryptionConfiguration", "s3:PutBucketVersioning",
        "s3:PutBucketPublicAccessBlock", "s3:PutLifecycleConfiguration",
        "s3:PutBucketOwnershipControls",
    },
    "AWS::S3::BucketPolicy": {"s3:PutBucketPolicy", "s3:GetBucketPolicy"},
    "AWS::SNS::Topic": {"sns:CreateTopic", "sns:Subscribe", "sns:GetTopicAttributes"},
    "AWS::SSM::Parameter": {"ssm:PutParameter", "ssm:GetParameters"},
    "AWS::SecretsManager::Secret": {
        "secretsmanager:CreateSecret", "secretsmanager:DescribeSecret",
        "secretsmanager:GetRandomPassword", "kms:GenerateDataKey",
    },
    "AWS::Serverless::Function": {
        "lambda:CreateFunction", "lambda:GetFunction", "lambda:AddPermission",
        "lambda:PutFunctionConcurrency", "lambda:GetLayerVersion", "iam:PassRole",
        "events:PutRule", "events:PutTargets", "events:DescribeRule",
    },
    "AWS::Serverless::HttpApi": {
        "apigateway:POST", "apigateway:GET", "apigateway:PATCH", "logs:CreateLogDelivery",
    },
    "AWS::Serverless::LayerVersion": {"lambda:PublishLayerVersion", "lambda:GetLayerVersion"},
}  # fmt: skip

#: Resources not named after the stack, each for a reason (role, Sid).
UNSCOPED = {
    ("DeployRole", "DriveTheStack"): "SAM's managed stack (--resolve-s3) and its transform",
    ("DeployRole", "SamArtifacts"): "the bucket of SAM's managed stack",
    ("DeployRole", "ReadThePublicKeys"): "public halves only; an alias authorizes minutes late",
    ("DeployRole", "InvalidateTheCache"): "a distribution's id is generated",
    ("ExecutionRole", "SamArtifactsForLambda"): "the bucket of SAM's managed stack",
    ("ExecutionRole", "HttpApi"): "an API's id is generated",
    ("ExecutionRole", "CreateKeys"): "a key's ARN does not exist before it is created",
    ("ExecutionRole", "ManageKeys"): "a key's ARN does not exist before it is created",
    ("ExecutionRole", "GenerateTheEdgeToken"): "GetRandomPassword takes no resource",
    ("ExecutionRole", "DescribeParameters"): "DescribeParameters takes no resource",
    ("ExecutionRole", "Distribution"): "CloudFront ids are generated",
    ("ExecutionRole", "DescribeLogGroups"): "API Gateway's log delivery takes no resource",
}


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
    # One provider per account: created only when asked, the role names it by its fixed ARN.
    provider = bootstrap["Resources"]["GitHubOidcProvider"]
    assert provider["Condition"] == "CreateProvider"
    assert bootstrap["Conditions"]["CreateProvider"] == {
        "Fn::Equals": [{"Ref": "CreateOidcProvider"}, "true"]
    }
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]


def test_the_deploy_role_can_do_what_the_workflow_does_and_no_iam_beyond_one_pass_role(
    bootstrap: dict[str, Any],
) -> None:
    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    script = "\n".join(
        step.get("run", "") for job in deploy["jobs"].values() for step in job.get("steps", [])
    )
    allowed = {a for s in statements(bootstrap, "DeployRole") for a in actions(s)} | BY_KEY_POLICY
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


def test_the_execution_role_can_create_every_resource_type_of_the_template(
    bootstrap: dict[str, Any],
) -> None:
    template = load_template(ROOT / "template.yaml")
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert types <= set(CREATES), types - set(CREATES)  # a new type needs a row above
    allowed = {a for s in statements(bootstrap, "ExecutionRole") for a in actions(s)}
    for kind in types:
        assert CREATES[kind] <= allowed, (kind, CREATES[kind] - allowed)


@pytest.mark.parametrize("role", ["DeployRole", "ExecutionRole"])
def test_the_stack_name_scopes_every_resource_but_the_reviewed_ones(
    bootstrap: dict[str, Any], role: str
) -> None:
    """Each resource pattern holds the StackName parameter (or its condition does), except the
    statements of ``UNSCOPED``, each for a reason; none of those is an IAM action."""
    for statement in statements(bootstrap, role):
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        condition = repr(resolve_all(statement.get("Condition", {})))
        for resource in resources:
            if isinstance(resource, dict) and "Fn::If" in resource:
                resource = resource["Fn::If"][1]
            if isinstance(resource, dict) and "Fn::GetAtt" in resource:  # a role of this template
                resource = bootstrap["Resources"][resource["Fn::GetAtt"][0]]["Properties"]
                resource = resource["RoleName"]
            arn = resolve(resource)
            if STACK in arn or STACK in condition or "${MongoSecretPrefix}" in arn:
                continue  # (MongoSecretPrefix: the template's own parameter, mirrored)
            assert (role, statement.get("Sid")) in UNSCOPED, (role, statement.get("Sid"), arn)
            assert not any(a.startswith("iam:") for a in actions(statement)), statement


def resolve_all(value: Any) -> Any:
    """:func:`resolve` throughout a policy's condition."""
    if isinstance(value, dict) and "Fn::Sub" not in value:
        return {k: resolve_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_all(v) for v in value]
    return resolve(value)


def test_only_the_manifest_keys_own_policy_lets_the_deploy_role_sign(
    bootstrap: dict[str, Any],
) -> None:
    """The deploy role's IAM policy grants no kms:Sign at all, so it cannot sign with the server
    key (a forged delegation) or the result key (a forged result): ManifestKey's key policy names
    the role, which is the one grant ``models publish`` signs with."""
    for statement in statements(bootstrap, "DeployRole"):
        assert not any(a in ("kms:Sign", "kms:*") for a in actions(statement)), statement
    template = load_template(ROOT / "template.yaml")
    policy = template["Resources"]["ManifestKey"]["Properties"]["KeyPolicy"]["Statement"]
    granted = [s["Fn::If"][1] for s in policy if isinstance(s, dict) and "Fn::If" in s] + [
        s for s in policy if "Principal" in s
    ]
    signers = [s for s in granted if "kms:Sign" in actions(s)]
    assert [s["Principal"] for s in signers] == [{"AWS": {"Ref": "DeployRoleArn"}}]


def test_no_grant_waits_for_an_alias_or_a_tag(bootstrap: dict[str, Any]) -> None:
    """KMS takes up to five minutes to authorize by a new alias or tag, and the first deploy
    creates DataKey's alias seconds before the secrets it encrypts (and minutes before the first
    publish): a grant conditioned on one fails the first deploy, and only the first."""
    for role in ("DeployRole", "ExecutionRole"):
        for statement in statements(bootstrap, role):
            keys = {k for test in statement.get("Condition", {}).values() for k in test}
            assert not {k for k in keys if re.match(r"kms:(ResourceAliases|RequestAlias)", k)}
            assert not {k for k in keys if k.startswith(("aws:ResourceTag", "kms:ResourceTag"))}


@pytest.mark.parametrize(
    ("role", "service", "context_key", "name"),
    [
        ("ExecutionRole", "secretsmanager", "kms:EncryptionContext:SecretARN",
         f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{STACK}/edge-AbCdEf"),
        ("DeployRole", "s3", "kms:EncryptionContext:aws:s3:arn",
         f"arn:aws:s3:::{STACK}-modelbucket-1a2b3c4d5e6f"),
    ],
)  # fmt: skip
def test_data_key_use_is_limited_to_the_stacks_own_secrets_and_bucket(
    bootstrap: dict[str, Any], role: str, service: str, context_key: str, name: str
) -> None:
    """Every grant to encrypt or decrypt goes through one service and names the stack's own
    resources in the encryption context (the one attribute known before the first deploy)."""
    found = [
        s for s in statements(bootstrap, role)
        if {"kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"} & set(actions(s))
    ]  # fmt: skip
    assert found
    for statement in found:
        condition = statement["Condition"]
        assert resolve(condition["StringEquals"]["kms:ViaService"]) == (
            f"{service}.{REGION}.amazonaws.com"
        )
        patterns = condition["StringLike"][context_key]
        patterns = [resolve(p) for p in (patterns if isinstance(patterns, list) else [patterns])]
        patterns = [p for p in patterns if isinstance(p, str)]  # the optional prefix left out
        assert any(fnmatch.fnmatchcase(name, p) for p in patterns), patterns
        other_stack = name.replace(STACK, "another")
        assert not any(fnmatch.fnmatchcase(other_stack, p) for p in patterns), patterns


def test_the_execution_role_reads_every_secret_the_template_resolves(
    bootstrap: dict[str, Any],
) -> None:
    """CloudFormation resolves ``{{resolve:secretsmanager:…}}`` with the execution role: without
    GetSecretValue on it the first deploy stops at the distribution."""
    template = load_template(ROOT / "template.yaml")
    text = (ROOT / "template.yaml").read_text()
    referenced = set(re.findall(r"\{\{resolve:secretsmanager:\$\{(\w+)\}", text))
    assert referenced, "the template resolves no secret any more: drop ResolveTheEdgeToken"
    patterns = [
        resolve(s["Resource"]) for s in statements(bootstrap, "ExecutionRole")
        if "secretsmanager:GetSecretValue" in actions(s)
    ]  # fmt: skip
    for logical_id in referenced:
        name = template["Resources"][logical_id]["Properties"]["Name"]["Fn::Sub"]
        arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:" + name.replace(
            "${AWS::StackName}", STACK
        ) + "-AbCdEf"  # fmt: skip
        assert any(fnmatch.fnmatchcase(arn, p) for p in patterns), (arn, patterns)


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
