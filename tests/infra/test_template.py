"""The SAM template keeps its security properties; each test fails if one of them breaks.

The template is parsed with cfn-lint's decoder, which understands CloudFormation short tags
(``!Ref X`` becomes ``{"Ref": "X"}``, ``!GetAtt X.Arn`` becomes ``{"Fn::GetAtt": ["X", "Arn"]}``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
VENV_BIN = Path(sys.executable).parent
FUNCTIONS = ("KeyExchangeFunction", "ModelFunction", "TransactionsFunction", "VerifyFunction")
#: Lambda's hard limit on a function plus all its layers, unzipped (262,144,000 bytes).
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
SENSITIVE_SERVICES = ("kms:", "s3:", "secretsmanager:")

Template = dict[str, Any]


@pytest.fixture(scope="module")
def template() -> Template:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors, [str(e) for e in errors]
    return dict(json.loads(json.dumps(parsed)))


def sam_env(**extra: str) -> dict[str, str]:
    """An offline environment for the SAM CLI: no telemetry, a dummy region, no credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    path = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(SAM_CLI_TELEMETRY="0", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1")
    env.update(PATH=path, **extra)
    return env


def resources(template: Template, type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def props(template: Template, logical_id: str) -> dict[str, Any]:
    return dict(template["Resources"][logical_id].get("Properties", {}))


def ref_name(value: Any) -> str:
    """The logical id a value points at: ``!Ref X``, ``!GetAtt X.Arn`` -> ``X``;
    ``!Sub "${X.Arn}/p"`` -> ``X/p``; literals as they are."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}", r"\1", value["Fn::Sub"])
    return str(value)


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def routes(template: Template) -> dict[tuple[str, str], tuple[str, Any]]:
    """``(METHOD, path) -> (function, Auth)`` for every HttpApi event."""
    table: dict[tuple[str, str], tuple[str, Any]] = {}
    for name, fn in resources(template, "AWS::Serverless::Function").items():
        for event in (fn["Properties"].get("Events") or {}).values():
            if event["Type"] != "HttpApi":
                continue
            ev = event["Properties"]
            assert ev.get("ApiId") == {"Ref": "HttpApi"}, f"{name}: route not on HttpApi"
            key = (ev.get("Method", "ANY").upper(), ev.get("Path", "$default"))
            table[key] = (name, ev.get("Auth"))
    return table


def iam_statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every identity-policy statement: roles' inline policies, managed and inline policies."""
    for name, res in template["Resources"].items():
        p = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            documents = [pol["PolicyDocument"] for pol in p.get("Policies", [])]
        elif res["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            documents = [p["PolicyDocument"]]
        else:
            continue
        for document in documents:
            for statement in as_list(document["Statement"]):
                yield name, statement


def granted(template: Template, role: str) -> set[tuple[str, str]]:
    """``(action, resource)`` pairs a role allows on KMS, S3 and Secrets Manager."""
    pairs = set()
    for name, statement in iam_statements(template):
        if name != role or statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            if action.startswith(SENSITIVE_SERVICES):
                pairs |= {(action, ref_name(r)) for r in as_list(statement["Resource"])}
    return pairs


def csp_directives(template: Template) -> dict[str, list[str]]:
    config = props(template, "SecurityHeadersPolicy")["ResponseHeadersPolicyConfig"]
    csp = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    text = csp["Fn::Sub"] if isinstance(csp, dict) else csp
    directives = {}
    for part in text.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


# ------------------------------------------------------------------ lint


def test_sam_validate_lint_passes() -> None:
    result = subprocess.run(
        [str(VENV_BIN / "sam"), "validate", "--lint", "--template-file", str(TEMPLATE)],
        cwd=ROOT,
        env=sam_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


# ------------------------------------------------------------------ storage and keys


def test_model_bucket_encrypts_with_the_data_key_via_sse_kms(template: Template) -> None:
    (rule,) = props(template, "ModelBucket")["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert ref_name(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == "DataKey"
    assert rule["BucketKeyEnabled"] is True


def test_model_bucket_is_versioned(template: Template) -> None:
    assert props(template, "ModelBucket")["VersioningConfiguration"]["Status"] == "Enabled"


@pytest.mark.parametrize("bucket", ["ModelBucket", "FrontendBucket"])
def test_bucket_blocks_all_public_access(template: Template, bucket: str) -> None:
    block = props(template, bucket)["PublicAccessBlockConfiguration"]
    names = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    assert {name: block.get(name) for name in names} == dict.fromkeys(names, True)
    (rule,) = props(template, bucket)["OwnershipControls"]["Rules"]
    assert rule["ObjectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize(
    ("policy", "bucket"),
    [("ModelBucketPolicy", "ModelBucket"), ("FrontendBucketPolicy", "FrontendBucket")],
)
def test_bucket_policy_denies_requests_without_tls(
    template: Template, policy: str, bucket: str
) -> None:
    p = props(template, policy)
    assert ref_name(p["Bucket"]) == bucket
    denies = [
        s
        for s in as_list(p["PolicyDocument"]["Statement"])
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert denies, f"{policy} has no deny on aws:SecureTransport=false"
    (deny,) = denies
    assert deny["Principal"] == "*"
    assert deny["Action"] == "s3:*"
    assert {ref_name(r) for r in as_list(deny["Resource"])} == {bucket, f"{bucket}/*"}


def test_model_bucket_policy_refuses_non_kms_encryption_headers(template: Template) -> None:
    statements = as_list(props(template, "ModelBucketPolicy")["PolicyDocument"]["Statement"])
    (deny,) = [s for s in statements if s.get("Sid") == "DenyNonKmsEncryption"]
    assert deny["Effect"] == "Deny"
    assert deny["Action"] == "s3:PutObject"
    assert deny["Condition"]["StringNotEquals"]["s3:x-amz-server-side-encryption"] == "aws:kms"


def test_only_the_deploy_role_may_write_or_delete_models_and_the_manifest(
    template: Template,
) -> None:
    statements = as_list(props(template, "ModelBucketPolicy")["PolicyDocument"]["Statement"])
    (deny,) = [s for s in statements if s.get("Sid") == "OnlyTheDeployRoleWritesModelsAndManifest"]
    assert (deny["Effect"], deny["Principal"]) == ("Deny", "*")
    actions = set(as_list(deny["Action"]))
    assert {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"} <= actions
    assert {ref_name(r) for r in as_list(deny["Resource"])} == {
        "ModelBucket/manifest/*",
        "ModelBucket/models/*",
    }
    # Every principal but DeployRoleArn; with the parameter empty the condition is dropped and
    # the deny covers everyone (fail closed: nobody rewrites the manifest).
    condition, if_set, if_empty = deny["Condition"]["Fn::If"]
    assert condition == "HasDeployRole"
    assert if_set == {"ArnNotEquals": {"aws:PrincipalArn": {"Ref": "DeployRoleArn"}}}
    assert if_empty == {"Ref": "AWS::NoValue"}
    assert template["Conditions"]["HasDeployRole"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "DeployRoleArn"}, ""]}]
    }
    parameter = template["Parameters"]["DeployRoleArn"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("arn:aws:iam::123456789012:role/secureface-deploy")
    assert pattern.fullmatch("")
    assert not pattern.fullmatch("*") and not pattern.fullmatch("arn:aws:iam::123456789012:root")
    # The functions themselves only read models and the manifest.
    for role in ("ModelRole", "VerifyRole"):
        assert {a for a, r in granted(template, role) if r.startswith("ModelBucket/")} == {
            "s3:GetObject"
        }


def test_the_minimum_manifest_version_is_a_required_template_parameter(template: Template) -> None:
    parameter = template["Parameters"]["MinManifestVersion"]
    assert parameter["Type"] == "Number"
    assert "Default" not in parameter  # every deploy states it (model_versions.json)
    assert int(parameter["MinValue"]) == 1
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["SECUREFACE_MIN_MANIFEST_VERSION"] == {"Ref": "MinManifestVersion"}
    # The clients' lifetime cap is the template's longest TTL.
    from secureface.models.manifest import MAX_LIFETIME_S

    assert int(template["Parameters"]["ManifestTtlSeconds"]["MaxValue"]) == MAX_LIFETIME_S


@pytest.mark.parametrize("key", ["SigningKey", "ManifestKey"])
def test_server_and_manifest_keys_are_p256_signing_keys(template: Template, key: str) -> None:
    assert (props(template, key)["KeySpec"], props(template, key)["KeyUsage"]) == (
        "ECC_NIST_P256",
        "SIGN_VERIFY",
    )


ACCOUNT_ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}


def test_only_the_deploy_role_can_sign_manifests_by_the_key_policy(template: Template) -> None:
    """The manifest key's own policy: the account (so IAM policies) may administer it and read
    its public half but never sign; kms:Sign is granted to DeployRoleArn alone, and to nobody
    while it is unset. No function role is granted anything but its public half."""
    statements = as_list(props(template, "ManifestKey")["KeyPolicy"]["Statement"])
    account, deploy = statements
    assert account["Principal"]["AWS"] == ACCOUNT_ROOT and account["Effect"] == "Allow"
    actions = as_list(account["Action"])
    assert not [a for a in actions if a in ("kms:*", "kms:Sign") or a.startswith("kms:Sign")]
    assert "kms:Get*" in actions  # GetPublicKey, for the functions and the frontend config
    condition, granted_, otherwise = deploy["Fn::If"]
    assert condition == "HasDeployRole" and otherwise == {"Ref": "AWS::NoValue"}
    assert granted_["Principal"]["AWS"] == {"Ref": "DeployRoleArn"}
    assert as_list(granted_["Action"]) == ["kms:Sign"]  # only what the conditions fit
    assert granted_["Condition"]["StringEquals"]["kms:SigningAlgorithm"] == "ECDSA_SHA_256"
    for role in EXPECTED_GRANTS:
        on_manifest_key = {a for a, r in granted(template, role) if r == "ManifestKey"}
        assert on_manifest_key <= {"kms:GetPublicKey"}, role
    # and the server key (sessions) is not the manifest key: the functions that check
    # manifests read the manifest key, never the server key.
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert ref_name(env["SECUREFACE_MANIFEST_KEY_ID"]) == "ManifestKey"


def test_data_key_is_symmetric_and_rotated(template: Template) -> None:
    key = props(template, "DataKey")
    assert key.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
    assert key["EnableKeyRotation"] is True


@pytest.mark.parametrize("key", ["DataKey", "SigningKey", "ResultKey", "ManifestKey"])
def test_key_policy_only_trusts_this_account(template: Template, key: str) -> None:
    for statement in as_list(props(template, key)["KeyPolicy"]["Statement"]):
        if "Fn::If" in statement:  # the manifest key's deploy-role grant: a role of this stack
            statement = statement["Fn::If"][1]
            assert statement["Principal"]["AWS"] == {"Ref": "DeployRoleArn"}
            continue
        assert statement["Principal"]["AWS"] == ACCOUNT_ROOT


@pytest.mark.parametrize(
    "logical_id",
    [
        "DataKey",
        "SigningKey",
        "ManifestKey",
        "ResultKey",
        "ModelBucket",
        "KeyExchangeMongoSecret",
        "ModelMongoSecret",
        "TransactionsMongoSecret",
        "VerifyMongoSecret",
        "RelyingPartiesSecret",
    ],
)
def test_keys_models_and_secret_survive_stack_deletion(template: Template, logical_id: str) -> None:
    # Losing SigningKey breaks every pinned client; losing DataKey loses the face templates.
    resource = template["Resources"][logical_id]
    assert resource.get("DeletionPolicy") == "Retain"
    assert resource.get("UpdateReplacePolicy") == "Retain"


MONGO_SECRETS = {f"{name.removesuffix('Function')}MongoSecret": name for name in FUNCTIONS}


@pytest.mark.parametrize("secret", sorted(MONGO_SECRETS))
def test_mongo_secrets_hold_no_value_in_the_template(template: Template, secret: str) -> None:
    properties = props(template, secret)
    assert "SecretString" not in properties
    assert "GenerateSecretString" not in properties
    assert ref_name(properties["KmsKeyId"]) == "DataKey"


def test_each_function_connects_as_its_own_mongodb_user(template: Template) -> None:
    """One connection string per function, in a secret only that function's role may read:
    each names a database user whose role is secureface.adapters.mongo_access's."""
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert "SECUREFACE_MONGO_SECRET_ID" not in env
    for secret, function in MONGO_SECRETS.items():
        own = props(template, function)["Environment"]["Variables"]["SECUREFACE_MONGO_SECRET_ID"]
        assert ref_name(own) == secret
        readers = {
            name
            for name, statement in iam_statements(template)
            if "secretsmanager:GetSecretValue" in as_list(statement["Action"])
            and secret in {ref_name(r) for r in as_list(statement["Resource"])}
        }
        assert readers == {ref_name(props(template, function)["Role"])}, secret


# ------------------------------------------------------------------ API


def test_routes_are_exactly_the_designed_ones(template: Template) -> None:
    table = {key: fn for key, (fn, _auth) in routes(template).items()}
    assert table == {
        ("POST", "/session"): "KeyExchangeFunction",
        ("ANY", "$default"): "KeyExchangeFunction",
        ("GET", "/models/manifest"): "ModelFunction",
        ("GET", "/models/{name}/{version}/segments"): "ModelFunction",
        ("POST", "/verify"): "VerifyFunction",
        ("POST", "/admin/enrollments"): "VerifyFunction",
        ("DELETE", "/admin/enrollments/{subject}"): "VerifyFunction",
        ("POST", "/v1/transactions"): "TransactionsFunction",
        ("GET", "/v1/transactions/{transaction_id}"): "TransactionsFunction",
        ("POST", "/v1/flow"): "TransactionsFunction",
        ("GET", "/.well-known/jwks.json"): "TransactionsFunction",
    }


def test_routes_match_the_packages_route_table(template: Template) -> None:
    """One table in the package (api/routes.py) answers 404/405; the template serves it."""
    from secureface.api.routes import ROUTES

    functions = {
        "KeyExchangeFunction": "keyexchange", "ModelFunction": "model",
        "TransactionsFunction": "transactions", "VerifyFunction": "verify",
    }  # fmt: skip
    served = {
        (method, path, functions[fn])
        for (method, path), (fn, _auth) in routes(template).items()
        if path != "$default"
    }
    assert served == {(r.method, r.path, r.function) for r in ROUTES}


def throttle(template: Template, route: str | None, field: str) -> int:
    """A route's throttle (``None``: the default route's) as deployed with the parameters'
    defaults; every throttle is a parameter, so an operator sizes it without editing."""
    api = props(template, "HttpApi")
    settings = api["DefaultRouteSettings"] if route is None else api["RouteSettings"][route]
    parameter = template["Parameters"][ref_name(settings[field])]
    assert parameter["Type"] == "Number" and parameter["MinValue"] >= 1
    return int(parameter["Default"])


def test_starting_transactions_has_a_route_throttle_below_the_default(template: Template) -> None:
    for field in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
        assert (
            0 < throttle(template, "POST /v1/transactions", field) < throttle(template, None, field)
        )


def test_result_tokens_have_a_key_of_their_own_that_only_verify_signs_with(
    template: Template,
) -> None:
    key = props(template, "ResultKey")
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    signers = {name for name, s in iam_statements(template)
               if "kms:Sign" in as_list(s["Action"]) and s["Effect"] == "Allow"
               and "ResultKey" in {ref_name(r) for r in as_list(s["Resource"])}}  # fmt: skip
    assert signers == {"VerifyRole"}
    # and the pinned keys (sessions, manifests) are never signed with where images are
    # decoded: the verify role holds kms:Sign on neither
    assert ("kms:Sign", "SigningKey") not in granted(template, "VerifyRole")
    assert ("kms:Sign", "ManifestKey") not in granted(template, "VerifyRole")


def test_the_relying_party_registry_is_read_only_by_the_transactions_function(
    template: Template,
) -> None:
    readers = {
        name
        for name, s in iam_statements(template)
        if "RelyingPartiesSecret" in {ref_name(r) for r in as_list(s["Resource"])}
    }
    assert readers == {"TransactionsRole"}
    secret = props(template, "RelyingPartiesSecret")
    assert json.loads(secret["SecretString"]) == {"relying_parties": []}  # no client in the repo
    assert ref_name(secret["KmsKeyId"]) == "DataKey"


def test_the_public_origin_is_the_distribution_or_its_custom_domain(template: Template) -> None:
    """One origin for the page, the API and the issuer, recorded where the functions read it
    (a parameter, not their environment: the distribution names the API, which names them)."""
    parameter = props(template, "PublicOriginParameter")
    assert parameter["Name"] == {"Fn::Sub": "/${AWS::StackName}/public-origin"}
    condition, custom, default = parameter["Value"]["Fn::If"]
    assert (condition, custom, default) == (
        "HasDomainName", {"Fn::Sub": "https://${DomainName}"},
        {"Fn::Sub": "https://${Distribution.DomainName}"},
    )  # fmt: skip
    assert template["Outputs"]["FrontendUrl"]["Value"] == parameter["Value"]
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["SECUREFACE_PUBLIC_ORIGIN_PARAMETER"] == parameter["Name"]
    readers = {name for name, st in iam_statements(template) if st["Action"] == "ssm:GetParameter"}
    assert readers == {"TransactionsRole", "VerifyRole"}
    for _name, st in iam_statements(template):
        if st["Action"] == "ssm:GetParameter":
            assert st["Resource"]["Fn::Sub"].endswith(":parameter/${AWS::StackName}/public-origin")
    pattern = template["Parameters"]["DomainName"]["AllowedPattern"]
    assert re.fullmatch(pattern, "face.bank.example") and re.fullmatch(pattern, "")
    for bad in ("https://face.bank.example", "face.bank.example/", "*.bank.example", "x"):
        assert not re.fullmatch(pattern, bad), bad
    rule = template["Rules"]["DomainNeedsCertificate"]
    assert rule["Assertions"][0]["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]
    }
    assert "FrontendOrigin" not in template["Parameters"]  # no second deploy to learn it
    assert "PublicApiUrl" not in template["Parameters"]


def test_admin_routes_require_iam_authorization(template: Template) -> None:
    admin = {key: auth for key, (_fn, auth) in routes(template).items() if "/admin" in key[1]}
    assert len(admin) == 2
    for key, auth in admin.items():
        assert auth == {"Authorizer": "AWS_IAM"}, f"{key} is not IAM-authorized"
    api = props(template, "HttpApi")
    assert api["Auth"]["EnableIamAuthorizer"] is True
    assert "DefaultAuthorizer" not in api["Auth"]


def test_the_api_allows_no_cross_origin_browser_request(template: Template) -> None:
    """The page and the API are one origin: no CORS at all, so no other site's page may call
    the API from a browser (a relying party's backend calls it server to server)."""
    assert "CorsConfiguration" not in props(template, "HttpApi")


def test_the_distribution_serves_every_browser_and_relying_party_route_and_no_admin_route(
    template: Template,
) -> None:
    from devstack.template import edge_path_matches

    config = props(template, "Distribution")["DistributionConfig"]
    api = next(o for o in config["Origins"] if o["Id"] == "api")
    assert api["DomainName"] == {
        "Fn::Sub": "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    }
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert api["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    behaviors = [b for b in config["CacheBehaviors"] if b["TargetOriginId"] == "api"]
    assert len(behaviors) == len(config["CacheBehaviors"])
    for b in behaviors:
        assert b["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
        # every viewer header but Host (execute-api routes by its own host), CloudFront's too
        assert b["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
        assert b["ViewerProtocolPolicy"] == "https-only"
        assert "POST" in b["AllowedMethods"] and b["CachedMethods"] == ["GET", "HEAD"]
        assert ref_name(b["ResponseHeadersPolicyId"]) == "SecurityHeadersPolicy"
    patterns = [b["PathPattern"] for b in behaviors]
    for (method, path), (_fn, auth) in routes(template).items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        served = any(edge_path_matches(p, concrete) for p in patterns)
        if path == "$default":
            continue
        assert served == (auth is None), f"{method} {path}: served by the distribution {served}"


def test_only_the_distribution_can_vouch_for_a_viewer_address(template: Template) -> None:
    config = props(template, "Distribution")["DistributionConfig"]
    api = next(o for o in config["Origins"] if o["Id"] == "api")
    (header,) = api["OriginCustomHeaders"]
    assert header["HeaderName"].lower() == "x-secureface-edge"
    assert header["HeaderValue"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${EdgeSecret}:SecretString}}"
    }
    secret = props(template, "EdgeSecret")
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32  # generated, never in the repo
    assert ref_name(secret["KmsKeyId"]) == "DataKey"
    readers = {
        name
        for name, st in iam_statements(template)
        if "EdgeSecret" in {ref_name(r) for r in as_list(st["Resource"])}
    }
    assert readers == {"VerifyRole"}
    verify = props(template, "VerifyFunction")["Environment"]["Variables"]
    assert ref_name(verify["SECUREFACE_EDGE_SECRET_ID"]) == "EdgeSecret"


def test_http_api_is_throttled_and_access_logged(template: Template) -> None:
    api = props(template, "HttpApi")
    assert throttle(template, None, "ThrottlingBurstLimit") > 0
    assert throttle(template, None, "ThrottlingRateLimit") > 0
    destination = api["AccessLogSettings"]["DestinationArn"]
    assert ref_name(destination) == "ApiAccessLogGroup"
    retention = props(template, "ApiAccessLogGroup")["RetentionInDays"]
    assert retention == {"Ref": "LogRetentionDays"}


# ------------------------------------------------------------------ functions and IAM


def test_every_function_has_its_own_role_declared_here(template: Template) -> None:
    roles = []
    for name in FUNCTIONS:
        fn = props(template, name)
        assert "Policies" not in fn, f"{name}: use its role, not SAM-generated policies"
        role = ref_name(fn["Role"])
        assert template["Resources"][role]["Type"] == "AWS::IAM::Role"
        assert "ManagedPolicyArns" not in props(template, role)
        roles.append(role)
    assert len(set(roles)) == len(FUNCTIONS)


def test_no_kms_s3_or_secrets_permission_on_a_wildcard_resource(template: Template) -> None:
    checked = 0
    for name, statement in iam_statements(template):
        actions = as_list(statement["Action"])
        assert "*" not in actions, f"{name}: Action *"
        if not any(a.startswith(SENSITIVE_SERVICES) for a in actions):
            continue
        checked += 1
        assert not any(a.endswith(":*") for a in actions), f"{name}: {actions}"
        for resource in as_list(statement["Resource"]):
            assert resource != "*", f"{name}: {actions} on Resource *"
            assert "*" not in ref_name(resource).split("/")[0], f"{name}: wildcard in {resource}"
    assert checked >= 3


EXPECTED_GRANTS = {
    "KeyExchangeRole": {
        ("kms:Sign", "SigningKey"),
        ("kms:GetPublicKey", "SigningKey"),
        ("kms:GenerateDataKey", "DataKey"),
        ("kms:Decrypt", "DataKey"),
        ("secretsmanager:GetSecretValue", "KeyExchangeMongoSecret"),
    },
    "ModelRole": {
        ("s3:GetObject", "ModelBucket/models/*"),
        ("s3:GetObject", "ModelBucket/manifest/*"),
        ("kms:GetPublicKey", "ManifestKey"),
        ("kms:Decrypt", "DataKey"),
        ("secretsmanager:GetSecretValue", "ModelMongoSecret"),
    },
    "TransactionsRole": {
        ("kms:GetPublicKey", "ResultKey"),
        ("kms:Decrypt", "DataKey"),
        ("secretsmanager:GetSecretValue", "TransactionsMongoSecret"),
        ("secretsmanager:GetSecretValue", "RelyingPartiesSecret"),
    },
    "VerifyRole": {
        ("s3:GetObject", "ModelBucket/models/*"),
        ("s3:GetObject", "ModelBucket/manifest/*"),
        ("kms:Sign", "ResultKey"),
        ("kms:GetPublicKey", "ManifestKey"),
        ("kms:GetPublicKey", "ResultKey"),
        ("kms:GenerateDataKey", "DataKey"),
        ("kms:Decrypt", "DataKey"),
        ("secretsmanager:GetSecretValue", "VerifyMongoSecret"),
        ("secretsmanager:GetSecretValue", "EdgeSecret"),  # trusts CloudFront-Viewer-Address
    },
}


@pytest.mark.parametrize("role", sorted(EXPECTED_GRANTS))
def test_role_grants_exactly_what_its_function_needs(template: Template, role: str) -> None:
    assert granted(template, role) == EXPECTED_GRANTS[role]


def data_key_purposes(template: Template, role: str) -> dict[str, set[str]]:
    """``action -> purposes`` a role may use the data key for directly (``kms:EncryptionContext:
    purpose``); ``via:<service>`` for uses only through S3 or Secrets Manager."""
    found: dict[str, set[str]] = {}
    for name, statement in iam_statements(template):
        if name != role or "DataKey" not in {ref_name(r) for r in as_list(statement["Resource"])}:
            continue
        condition = statement.get("Condition", {}).get("StringEquals", {})
        if "kms:EncryptionContext:purpose" in condition:
            uses = set(as_list(condition["kms:EncryptionContext:purpose"]))
        else:
            vias = as_list(condition["kms:ViaService"])  # KeyError: an unconditioned grant
            uses = {"via:" + ref_name(v).split(".")[0] for v in vias}
        for action in as_list(statement["Action"]):
            found.setdefault(action, set()).update(uses)
    return found


def test_data_keys_are_granted_by_purpose(template: Template) -> None:
    """The key-exchange function only makes session data keys (it cannot seal a chosen
    template for a subject), the model function only opens them (never a template), the verify
    function both and the biometric ones; every other use goes through S3 or Secrets Manager."""
    assert data_key_purposes(template, "KeyExchangeRole") == {
        "kms:GenerateDataKey": {"session"}, "kms:Decrypt": {"via:secretsmanager"},
    }  # fmt: skip
    assert data_key_purposes(template, "ModelRole") == {
        "kms:Decrypt": {"session", "via:s3", "via:secretsmanager"},
    }
    assert data_key_purposes(template, "VerifyRole") == {
        "kms:GenerateDataKey": {"biometric"},
        "kms:Decrypt": {"session", "biometric", "via:s3", "via:secretsmanager"},
    }
    assert data_key_purposes(template, "TransactionsRole") == {
        "kms:Decrypt": {"via:secretsmanager"},
    }


def test_verify_has_a_route_throttle_and_optional_reserved_concurrency(
    template: Template,
) -> None:
    for field in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
        assert 0 < throttle(template, "POST /verify", field) < throttle(template, None, field)
    reserved = props(template, "VerifyFunction")["ReservedConcurrentExecutions"]
    assert reserved["Fn::If"][0] == "HasVerifyConcurrency"
    assert template["Parameters"]["VerifyReservedConcurrency"]["Default"] == 0


def test_kms_sign_is_limited_to_ecdsa_sha256_raw(template: Template) -> None:
    signing = [s for _, s in iam_statements(template) if "kms:Sign" in as_list(s["Action"])]
    assert len(signing) == 2
    for statement in signing:
        condition = statement["Condition"]["StringEquals"]
        assert condition == {"kms:SigningAlgorithm": "ECDSA_SHA_256", "kms:MessageType": "RAW"}


def test_function_logs_go_to_their_own_group_with_retention(template: Template) -> None:
    groups = set()
    for name in FUNCTIONS:
        group = ref_name(props(template, name)["LoggingConfig"]["LogGroup"])
        assert props(template, group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        role = ref_name(props(template, name)["Role"])
        log_resources = {
            ref_name(s["Resource"])
            for n, s in iam_statements(template)
            if n == role and any(a.startswith("logs:") for a in as_list(s["Action"]))
        }
        assert log_resources == {group}
        groups.add(group)
    assert len(groups) == len(FUNCTIONS)


def test_ml_layer_is_attached_only_to_the_verify_function(template: Template) -> None:
    layers = {name: [ref_name(x) for x in props(template, name)["Layers"]] for name in FUNCTIONS}
    assert layers == {
        "KeyExchangeFunction": ["CoreLayer"],
        "ModelFunction": ["CoreLayer"],
        "TransactionsFunction": ["CoreLayer"],
        "VerifyFunction": ["CoreLayer", "MlLayer"],
    }
    assert "Layers" not in template["Globals"]["Function"]


def test_runtime_and_layer_builds_agree(template: Template) -> None:
    runtime = template["Globals"]["Function"]["Runtime"]
    for name in FUNCTIONS:
        assert props(template, name).get("Runtime", runtime) == runtime
    for name, layer in resources(template, "AWS::Serverless::LayerVersion").items():
        assert layer["Metadata"]["BuildMethod"] == runtime, name
        assert layer["Properties"]["CompatibleRuntimes"] == [runtime], name


def test_functions_share_the_secureface_environment(template: Template) -> None:
    fn = template["Globals"]["Function"]
    env = fn["Environment"]["Variables"]
    assert fn["Tracing"] == "Active"
    assert env["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "SecureFace"
    assert {k: ref_name(v) for k, v in env.items() if k.startswith("SECUREFACE_")} == {
        "SECUREFACE_MODEL_BUCKET": "ModelBucket",
        "SECUREFACE_SIGNING_KEY_ID": "SigningKey",
        "SECUREFACE_MANIFEST_KEY_ID": "ManifestKey",
        "SECUREFACE_DATA_KEY_ID": "DataKey",
        "SECUREFACE_MONGO_DB": "secureface",
        "SECUREFACE_PUBLIC_ORIGIN_PARAMETER": "/${AWS::StackName}/public-origin",
        "SECUREFACE_MANIFEST_TTL_S": "ManifestTtlSeconds",
        "SECUREFACE_MIN_MANIFEST_VERSION": "MinManifestVersion",
        "SECUREFACE_ALLOW_MOTION_ONLY": "AllowMotionOnly",
        "SECUREFACE_VERIFY_DEADLINE_S": "VerifyDeadlineSeconds",
        "SECUREFACE_MATCH_THRESHOLD": "MatchThreshold",
        "SECUREFACE_SESSION_TTL_S": "SessionTtlSeconds",
        "SECUREFACE_LOCKOUT_MAX_FAILURES": "LockoutMaxFailures",
        "SECUREFACE_LOCKOUT_WINDOW_S": "LockoutWindowSeconds",
        "SECUREFACE_LOCKOUT_LOCK_S": "LockoutLockSeconds",
        "SECUREFACE_AUDIT_RETENTION_DAYS": "AuditRetentionDays",
    }


@pytest.mark.parametrize(
    ("parameter", "setting"),
    [
        ("MatchThreshold", "match_threshold"),
        ("SessionTtlSeconds", "session_ttl_s"),
        ("LockoutMaxFailures", "lockout_max_failures"),
        ("LockoutWindowSeconds", "lockout_window_s"),
        ("LockoutLockSeconds", "lockout_lock_s"),
        ("AuditRetentionDays", "audit_retention_days"),
    ],
)
def test_operator_knobs_default_to_the_packages_defaults(
    template: Template, parameter: str, setting: str
) -> None:
    """One default: a stack deployed without overrides behaves as the package's Settings."""
    from secureface.settings import Settings

    assert float(template["Parameters"][parameter]["Default"]) == getattr(Settings, setting)


def test_the_lower_assurance_motion_only_mode_is_off_unless_the_operator_turns_it_on(
    template: Template,
) -> None:
    assert template["Parameters"]["AllowMotionOnly"]["Default"] == "false"


def test_verify_function_has_room_for_inference(template: Template) -> None:
    verify = props(template, "VerifyFunction")
    assert verify["MemorySize"] >= 2048
    assert verify["Timeout"] == 30


# ------------------------------------------------------------------ frontend delivery


def test_csp_forbids_inline_and_eval_scripts(template: Template) -> None:
    directives = csp_directives(template)
    every_source = [s for sources in directives.values() for s in sources]
    assert "'unsafe-inline'" not in every_source
    assert "'unsafe-eval'" not in every_source
    assert "*" not in every_source
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_csp_connects_only_to_self(template: Template) -> None:
    """The API is under the page's own origin: the page may connect nowhere else."""
    assert csp_directives(template)["connect-src"] == ["'self'"]


def test_frontend_is_cross_origin_isolated_and_hardened(template: Template) -> None:
    config = props(template, "SecurityHeadersPolicy")["ResponseHeadersPolicyConfig"]
    custom = {h["Header"]: h["Value"] for h in config["CustomHeadersConfig"]["Items"]}
    assert custom["Cross-Origin-Opener-Policy"] == "same-origin"
    assert custom["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert "camera=(self)" in custom["Permissions-Policy"]
    security = config["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["FrameOptions"]["FrameOption"] == "DENY"


def test_distribution_serves_https_from_the_private_bucket_through_oac(template: Template) -> None:
    config = props(template, "Distribution")["DistributionConfig"]
    origin = next(o for o in config["Origins"] if o["Id"] == "frontend-s3")
    assert ref_name(origin["DomainName"]) == "FrontendBucket"
    assert ref_name(origin["OriginAccessControlId"]) == "FrontendOriginAccessControl"
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only")
    assert ref_name(behavior["ResponseHeadersPolicyId"]) == "SecurityHeadersPolicy"
    for other in config["CacheBehaviors"]:  # no path escapes the headers policy
        assert ref_name(other["ResponseHeadersPolicyId"]) == "SecurityHeadersPolicy"
    assert config["DefaultRootObject"] == "index.html"
    oac = props(template, "FrontendOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["SigningProtocol"]) == ("always", "sigv4")


def test_frontend_bucket_is_readable_only_by_this_distribution(template: Template) -> None:
    statements = as_list(props(template, "FrontendBucketPolicy")["PolicyDocument"]["Statement"])
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${Distribution}")


def test_outputs_name_everything_the_deploy_needs(template: Template) -> None:
    assert {
        "ApiUrl",
        "FrontendUrl",
        "FrontendBucketName",
        "DistributionId",
        "ModelBucketName",
        "SigningKeyArn",
        "ManifestKeyArn",
        "DataKeyArn",
        "ResultKeyArn",
        "JwksUrl",
        "RelyingPartiesSecretArn",
    } <= set(template["Outputs"])


# ------------------------------------------------------------------ sam build


def _python_for(version: str, shim_dir: Path) -> str:
    """A PATH on which ``python<version>`` runs, adding a shim for a pyenv install if needed."""
    exe = f"python{version}"
    found = shutil.which(exe)
    if found and subprocess.run([found, "-V"], capture_output=True).returncode == 0:
        return os.environ.get("PATH", "")
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for candidate in sorted(pyenv_root.glob(f"versions/{version}.*/bin/{exe}"), reverse=True):
        shim_dir.mkdir(parents=True, exist_ok=True)
        (shim_dir / exe).symlink_to(candidate)
        return f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    pytest.fail(f"sam build needs {exe} (the Lambda runtime) on PATH")


def _tree_size(path: Path) -> int:
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() or f.is_symlink())


@pytest.mark.slow
def test_sam_build_fits_each_function_in_the_lambda_size_limit(
    template: Template, tmp_path: Path
) -> None:
    runtime = template["Globals"]["Function"]["Runtime"]
    path = _python_for(runtime.removeprefix("python"), tmp_path / "shims")
    build_dir = tmp_path / "build"
    started = time.monotonic()
    result = subprocess.run(
        [
            str(VENV_BIN / "sam"),
            "build",
            "--template-file",
            str(TEMPLATE),
            "--build-dir",
            str(build_dir),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        cwd=ROOT,
        env={**sam_env(), "PATH": f"{VENV_BIN}{os.pathsep}{path}"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]

    assert (build_dir / "CoreLayer/python/secureface/__init__.py").is_file()
    assert (build_dir / "MlLayer/python/onnxruntime/__init__.py").is_file()
    assert not (build_dir / "CoreLayer/python/onnxruntime").exists()
    report: dict[str, Any] = {"runtime": runtime, "sam_build_seconds": round(seconds, 1)}
    for name in FUNCTIONS:
        assert (build_dir / name / "app.py").is_file()
        parts = [name, *(ref_name(x) for x in props(template, name)["Layers"])]
        sizes = {part: _tree_size(build_dir / part) for part in parts}
        total = sum(sizes.values())
        report[name] = {"parts_bytes": sizes, "total_mb": round(total / 2**20, 1)}
        assert total < LAMBDA_UNZIPPED_LIMIT, f"{name}: {total / 2**20:.1f} MiB unzipped"

    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "lambda-sizes.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
