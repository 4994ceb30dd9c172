"""``python -m secureface doctor`` (issue 11): each check passes on a deployment set up right and
fails on the mistake it exists for; no secret ever reaches its output. The checks run over an
in-memory deployment; the boto3 adapter runs once against moto (in-process) end to end."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from secureface.crypto.ecdsa import key_fingerprint
from secureface.doctor import FAIL, OK, WARN, Check, diagnose, render
from secureface.frontend import frontend_config
from secureface.models.layout import MANIFEST_KEY
from secureface.models.manifest import ModelEntry, build_manifest, sign_manifest
from tests.fakes import LocalSigner

NOW = 1_764_316_800
PASSWORD = "pa55-w0rd-that-must-never-print"
ORIGIN = "https://d1234.cloudfront.net"
ENTRY = ModelEntry("yunet", "2023mar", "detector", "a" * 64, 1)
FUNCTIONS = ("KeyExchange", "Model", "Transactions", "Verify")


def signed(
    signer: LocalSigner, *, version: int = 3, ttl_s: int = 14 * 86400, at: int = NOW
) -> bytes:
    manifest = build_manifest(version, [ENTRY], now=at, ttl_s=ttl_s)
    kid = key_fingerprint(signer.public_key_der())
    return sign_manifest(manifest, signer.sign, kid=kid).encode()


@dataclasses.dataclass
class FakeDeployment:
    """A deployment as the doctor sees it, set up right; tests break one thing each."""

    status: str = "UPDATE_COMPLETE"
    outputs: dict[str, str] = dataclasses.field(default_factory=dict)
    parameters: dict[str, str] = dataclasses.field(
        default_factory=lambda: {"MinManifestVersion": "3"}
    )
    secrets: dict[str, str | None] = dataclasses.field(default_factory=dict)
    objects: dict[tuple[str, str], bytes] = dataclasses.field(default_factory=dict)
    keys: dict[str, bytes] = dataclasses.field(default_factory=dict)
    attached: int = 1
    pages: dict[str, bytes] = dataclasses.field(default_factory=dict)
    pinged: list[str] = dataclasses.field(default_factory=list)
    exists: bool = True

    def stack(self) -> tuple[str, dict[str, str], dict[str, str]]:
        if not self.exists:
            raise LookupError("no stack named secureface")
        return self.status, self.outputs, self.parameters

    def secret(self, secret_id: str) -> str | None:
        return self.secrets.get(secret_id)

    def object(self, bucket: str, key: str) -> bytes | None:
        return self.objects.get((bucket, key))

    def public_key(self, key_id: str) -> bytes:
        return self.keys[key_id]

    def attachments(self, policy_arn: str) -> int:
        return self.attached

    def fetch(self, url: str) -> bytes | None:
        return self.pages.get(url)

    def ping(self, uri: str) -> str:
        self.pinged.append(uri)
        return "" if "good" in uri else "ServerSelectionTimeoutError"


@pytest.fixture
def deployment() -> Iterator[tuple[FakeDeployment, LocalSigner, LocalSigner]]:
    server, manifest_key = LocalSigner(), LocalSigner()
    outputs = {
        "FrontendUrl": ORIGIN, "ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com",
        "ModelBucketName": "models", "SigningKeyArn": "k-sign", "ManifestKeyArn": "k-manifest",
        "ResultKeyArn": "k-result", "DataKeyArn": "k-data", "RelyingPartiesSecretArn": "s-rp",
        "EnrollmentAdminPolicyArn": "p-admin",
        **{f"{f}MongoSecretArn": f"s-{f}" for f in FUNCTIONS},
    }  # fmt: skip
    d = FakeDeployment(outputs=outputs)
    for f in ("KeyExchange", "Model", "Transactions", "Verify"):
        d.secrets[f"s-{f}"] = f"mongodb+srv://{f.lower()}:{PASSWORD}@good.mongodb.net/"
    d.secrets["s-rp"] = json.dumps({"relying_parties": [{"client_id": "bank"}]})
    d.keys = {"k-sign": server.public_key_der(), "k-manifest": manifest_key.public_key_der()}
    d.objects[("models", MANIFEST_KEY)] = signed(manifest_key)
    d.pages[ORIGIN + "/config.json"] = frontend_config(
        ORIGIN, server.public_key_der(), manifest_key.public_key_der()
    )
    yield d, server, manifest_key


def statuses(checks: list[Check]) -> dict[str, str]:
    return {c.name: c.status for c in checks}


def test_a_deployment_set_up_right_passes_every_check(deployment: Any) -> None:
    d, _, _ = deployment
    checks = diagnose(d, now=NOW, ping=True)
    assert set(statuses(checks).values()) == {OK}, render(checks)
    assert len(checks) == 9 and len(d.pinged) == 4


def test_no_secret_reaches_the_output(deployment: Any, capsys: pytest.CaptureFixture[str]) -> None:
    d, _, _ = deployment
    d.secrets["s-Verify"] = f"mongodb://verify:{PASSWORD}@bad.example:27017/"  # ping fails
    d.secrets["s-Model"] = f"postgres://model:{PASSWORD}@db.example/"  # not MongoDB
    text = render(diagnose(d, now=NOW, ping=True)) + json.dumps(
        [c.__dict__ for c in diagnose(d, now=NOW, ping=True)]
    )
    assert PASSWORD not in text and "bad.example" not in text and "db.example" not in text
    assert "ServerSelectionTimeoutError" in text


def test_a_missing_stack_or_a_failed_update_fails(deployment: Any) -> None:
    d, _, _ = deployment
    d.exists = False
    assert statuses(diagnose(d, now=NOW)) == {"stack": FAIL}
    d.exists, d.status = True, "UPDATE_ROLLBACK_COMPLETE"
    assert statuses(diagnose(d, now=NOW))["stack"] == FAIL
    d.status = "UPDATE_COMPLETE"
    del d.outputs["ManifestKeyArn"]
    (only,) = diagnose(d, now=NOW)
    assert only.status == FAIL and "ManifestKeyArn" in only.detail


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "has no value"), ("", "has no value"), ("https://x.example", "not a mongodb")],
)
def test_an_unset_or_foreign_connection_string_fails(
    deployment: Any, value: Any, expected: str
) -> None:
    d, _, _ = deployment
    d.secrets["s-Transactions"] = value
    check = next(c for c in diagnose(d, now=NOW) if c.name == "mongodb (transactions)")
    assert check.status == FAIL and expected in check.detail and check.see


def test_a_database_that_does_not_answer_fails_only_when_pinged(deployment: Any) -> None:
    d, _, _ = deployment
    d.secrets["s-KeyExchange"] = f"mongodb+srv://u:{PASSWORD}@down.mongodb.net/"
    assert statuses(diagnose(d, now=NOW))["mongodb (keyexchange)"] == OK
    assert statuses(diagnose(d, now=NOW, ping=True))["mongodb (keyexchange)"] == FAIL


def test_the_manifest_must_verify_with_the_manifest_key_be_fresh_and_above_the_floor(
    deployment: Any,
) -> None:
    d, server, manifest_key = deployment
    key = ("models", MANIFEST_KEY)

    def manifest_check() -> Check:
        return next(c for c in diagnose(d, now=NOW) if c.name == "manifest")

    d.objects[key] = signed(server)  # signed by another key: the attack the pin exists for
    assert manifest_check().status == FAIL and "does not verify" in manifest_check().detail
    d.objects[key] = signed(manifest_key, at=NOW - 15 * 86400)  # expired
    assert manifest_check().status == FAIL and "expired" in manifest_check().detail
    d.objects[key] = signed(manifest_key, version=2)  # below the deployed floor (3)
    assert manifest_check().status == FAIL
    d.objects[key] = signed(manifest_key, ttl_s=2 * 86400)  # the re-sign has not run
    assert manifest_check().status == WARN and "2.0 days" in manifest_check().detail
    del d.objects[key]
    assert manifest_check().status == FAIL and "publish" in manifest_check().detail


def test_the_frontend_must_pin_the_keys_kms_holds_on_its_own_origin(deployment: Any) -> None:
    d, server, manifest_key = deployment
    page = ORIGIN + "/config.json"

    def pins() -> Check:
        return next(c for c in diagnose(d, now=NOW) if c.name == "frontend pins")

    other = LocalSigner().public_key_der()
    d.pages[page] = frontend_config(ORIGIN, other, manifest_key.public_key_der())
    assert pins().status == FAIL and "server key" in pins().detail
    d.pages[page] = frontend_config(ORIGIN, server.public_key_der(), other)
    assert pins().status == FAIL and "manifest key" in pins().detail
    d.pages[page] = frontend_config(
        "https://abc.execute-api.eu-west-1.amazonaws.com", server.public_key_der(),
        manifest_key.public_key_der(),
    )  # fmt: skip
    assert pins().status == FAIL and "apiUrl" in pins().detail
    d.pages[page] = b"<html>not found</html>"
    assert pins().status == FAIL
    del d.pages[page]
    assert pins().status == FAIL and "could not be fetched" in pins().detail


def test_nobody_able_to_enroll_and_no_relying_party_are_warnings(deployment: Any) -> None:
    d, _, _ = deployment
    d.attached = 0
    d.secrets["s-rp"] = json.dumps({"relying_parties": []})
    found = statuses(diagnose(d, now=NOW))
    assert (found["admin policy"], found["relying parties"]) == (WARN, WARN)


def test_the_cli_exits_1_on_a_failure_against_moto(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The boto3 adapter end to end (moto in-process): a stack whose Mongo secrets were never
    set fails, without printing anything of the secrets; a missing stack is a failure too."""
    import boto3
    from moto import mock_aws

    from secureface.adapters.aws import reset_clients
    from secureface.cli import main

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        reset_clients()
        try:
            kms = boto3.client("kms", region_name="us-east-1")
            keys = {
                name: kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")[
                    "KeyMetadata"
                ]["Arn"]
                for name in ("SigningKeyArn", "ManifestKeyArn", "ResultKeyArn")
            }
            sm = boto3.client("secretsmanager", region_name="us-east-1")
            secrets = {
                f"{f}MongoSecretArn": sm.create_secret(Name=f"sf/mongodb/{f}")["ARN"]
                for f in ("KeyExchange", "Model", "Transactions", "Verify")
            }
            sm.put_secret_value(
                SecretId=secrets["VerifyMongoSecretArn"], SecretString=f"mongodb://v:{PASSWORD}@h/"
            )
            rp = sm.create_secret(Name="sf/rp", SecretString='{"relying_parties": []}')["ARN"]
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="sf-models")
            statement = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}
            document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
            policy = boto3.client("iam").create_policy(PolicyName="admin", PolicyDocument=document)
            policy_arn = policy["Policy"]["Arn"]
            outputs = {
                **keys, **secrets, "RelyingPartiesSecretArn": rp,
                "EnrollmentAdminPolicyArn": policy_arn,
                "ModelBucketName": "sf-models", "DataKeyArn": "unused", "FrontendUrl": ORIGIN,
                "ApiUrl": "https://abc.execute-api.us-east-1.amazonaws.com",
            }  # fmt: skip
            template = {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()},
            }
            boto3.client("cloudformation", region_name="us-east-1").create_stack(
                StackName="sf", TemplateBody=json.dumps(template)
            )
            assert main(["doctor", "--stack", "sf", "--json"]) == 1
            checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
            assert checks["stack"]["status"] == OK
            assert checks["mongodb (keyexchange)"]["status"] == FAIL  # created, never set
            assert checks["mongodb (verify)"]["status"] == OK
            assert checks["manifest"]["status"] == FAIL  # nothing published
            assert checks["admin policy"]["status"] == WARN  # attached to nobody
            assert checks["relying parties"]["status"] == WARN
            assert PASSWORD not in json.dumps(checks)
            assert main(["doctor", "--stack", "nope"]) == 1
            assert "no stack named nope" in capsys.readouterr().out
        finally:
            reset_clients()
