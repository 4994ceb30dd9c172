"""``python -m secureface doctor`` (issue 11): each check passes on a deployment set up right and
fails on the mistake it exists for; no secret ever reaches its output. The checks run over an
in-memory deployment first; then the CLI and its boto3 adapter run end to end against moto
(in-process: a stack with outputs, KMS keys, a manifest published by ``models publish``), a
config.json served on 127.0.0.1 and a MongoDB wire server (nx-27017) for ``--ping``."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import json
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack import procs
from secureface import doctor
from secureface.crypto.ecdsa import key_fingerprint
from secureface.doctor import FAIL, OK, WARN, Check, diagnose, render
from secureface.encoding import b64url_decode
from secureface.errors import StoreUnavailableError
from secureface.frontend import frontend_config
from secureface.models.layout import MANIFEST_KEY
from secureface.models.manifest import ModelEntry, build_manifest, sign_manifest
from tests.fakes import LocalSigner

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_764_316_800
PLANTED = "pa55-w0rd-that-must-never-print"  # planted in connection strings; never printed
ORIGIN = "https://d1234.cloudfront.net"
ENTRY = ModelEntry("yunet", "2023mar", "detector", "a" * 64, 1)
FUNCTIONS = ("KeyExchange", "Model", "Transactions", "Verify")
REGISTRY = "registry"  # the fake registry secret's id
PARTY = {
    "client_id": "demo-bank", "name": "Demo Bank", "secret_sha256": "0" * 64,
    "return_urls": ["https://bank.example/callback"],
}  # fmt: skip


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
    unreachable: bool = False

    def stack(self) -> tuple[str, dict[str, str], dict[str, str]]:
        if not self.exists:
            raise LookupError("no stack named secureface")
        if self.unreachable:
            raise StoreUnavailableError(reason="cloudformation: NoCredentialsError")
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
        return "" if "good" in uri else "MongoDB did not answer (ServerSelectionTimeoutError)"


@pytest.fixture
def deployment() -> Iterator[tuple[FakeDeployment, LocalSigner, LocalSigner]]:
    server, manifest_key = LocalSigner(), LocalSigner()
    outputs = {
        "FrontendUrl": ORIGIN, "ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com",
        "ModelBucketName": "models", "SigningKeyArn": "k-sign", "ManifestKeyArn": "k-manifest",
        "ResultKeyArn": "k-result", "DataKeyArn": "k-data", "RelyingPartiesSecretArn": REGISTRY,
        "EnrollmentAdminPolicyArn": "p-admin",
        **{f"{f}MongoSecretArn": f"s-{f}" for f in FUNCTIONS},
    }  # fmt: skip
    d = FakeDeployment(outputs=outputs)
    for f in ("KeyExchange", "Model", "Transactions", "Verify"):
        d.secrets[f"s-{f}"] = f"mongodb+srv://{f.lower()}:{PLANTED}@good.mongodb.net/"
    d.secrets[REGISTRY] = json.dumps({"relying_parties": [PARTY]})
    d.keys = {"k-sign": server.public_key_der(), "k-manifest": manifest_key.public_key_der()}
    d.objects[("models", MANIFEST_KEY)] = signed(manifest_key)
    d.pages[ORIGIN + "/config.json"] = frontend_config(
        ORIGIN, server.public_key_der(), manifest_key.public_key_der()
    )
    yield d, server, manifest_key


def statuses(checks: list[Check]) -> dict[str, str]:
    return {c.name: c.status for c in checks}


def named(d: FakeDeployment, name: str) -> Check:
    """The check called ``name`` of a fresh diagnosis of ``d``."""
    return next(c for c in diagnose(d, now=NOW) if c.name == name)


def test_a_deployment_set_up_right_passes_every_check(deployment: Any) -> None:
    d, _, _ = deployment
    checks = diagnose(d, now=NOW, ping=True)
    assert set(statuses(checks).values()) == {OK}, render(checks)
    assert len(checks) == 9 and len(d.pinged) == 4


def test_no_secret_reaches_the_output(deployment: Any, capsys: pytest.CaptureFixture[str]) -> None:
    d, _, _ = deployment
    d.secrets["s-Verify"] = f"mongodb://verify:{PLANTED}@bad.example:27017/"  # ping fails
    d.secrets["s-Model"] = f"postgres://model:{PLANTED}@db.example/"  # not MongoDB
    text = render(diagnose(d, now=NOW, ping=True)) + json.dumps(
        [c.__dict__ for c in diagnose(d, now=NOW, ping=True)]
    )
    assert PLANTED not in text and "bad.example" not in text and "db.example" not in text
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


def test_a_stack_that_cannot_be_read_is_a_failed_check_not_a_crash(deployment: Any) -> None:
    d, _, _ = deployment
    d.unreachable = True
    (only,) = diagnose(d, now=NOW)
    assert only.status == FAIL and "NoCredentialsError" in only.detail


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "has no value"), ("", "has no value"), ("https://x.example", "not a mongodb")],
)
def test_an_unset_or_foreign_connection_string_fails(
    deployment: Any, value: Any, expected: str
) -> None:
    d, _, _ = deployment
    d.secrets["s-Transactions"] = value
    check = named(d, "mongodb (transactions)")
    assert check.status == FAIL and expected in check.detail and check.see


def test_a_database_that_does_not_answer_fails_only_when_pinged(deployment: Any) -> None:
    d, _, _ = deployment
    d.secrets["s-KeyExchange"] = f"mongodb+srv://u:{PLANTED}@down.mongodb.net/"
    assert statuses(diagnose(d, now=NOW))["mongodb (keyexchange)"] == OK
    assert statuses(diagnose(d, now=NOW, ping=True))["mongodb (keyexchange)"] == FAIL


def test_the_manifest_must_verify_with_the_manifest_key_be_fresh_and_above_the_floor(
    deployment: Any,
) -> None:
    d, server, manifest_key = deployment
    key = ("models", MANIFEST_KEY)

    assert named(d, "manifest") == Check(
        "manifest", OK, "version 3 (floor 3), expires in 1209600 s (14.0 days)"
    )
    d.objects[key] = signed(server)  # signed by another key: the attack the pin exists for
    check = named(d, "manifest")
    assert check.status == FAIL and "does not verify with ManifestKey" in check.detail
    assert check.see.endswith("#model-unavailable")  # an incident, not a chore
    d.objects[key] = signed(manifest_key, at=NOW - 15 * 86400)  # expired a day ago
    check = named(d, "manifest")
    assert check.status == FAIL and "expires in -86400 s" in check.detail
    assert "manifest expired" in check.detail and check.see.endswith("#manifest-expiring")
    d.objects[key] = signed(manifest_key, version=2)  # below the deployed floor (3)
    check = named(d, "manifest")
    assert check.status == FAIL and "rollback" in check.detail
    d.objects[key] = signed(manifest_key, ttl_s=2 * 86400)  # the re-sign has not run
    check = named(d, "manifest")
    assert check.status == WARN and "172800 s (2.0 days)" in check.detail
    d.objects[key] = b"not a JWS"
    assert named(d, "manifest").status == FAIL
    del d.objects[key]
    assert named(d, "manifest").status == FAIL and "publish" in named(d, "manifest").detail


def test_the_frontend_must_pin_the_keys_kms_holds_on_its_own_origin(deployment: Any) -> None:
    d, server, manifest_key = deployment
    page = ORIGIN + "/config.json"

    other = LocalSigner().public_key_der()
    d.pages[page] = frontend_config(ORIGIN, other, manifest_key.public_key_der())
    assert (
        named(d, "frontend pins").status == FAIL
        and "server key" in named(d, "frontend pins").detail
    )
    d.pages[page] = frontend_config(ORIGIN, server.public_key_der(), other)
    assert (
        named(d, "frontend pins").status == FAIL
        and "manifest key" in named(d, "frontend pins").detail
    )
    d.pages[page] = frontend_config(
        "https://abc.execute-api.eu-west-1.amazonaws.com", server.public_key_der(),
        manifest_key.public_key_der(),
    )  # fmt: skip
    assert named(d, "frontend pins").status == FAIL and "apiUrl" in named(d, "frontend pins").detail
    config = json.loads(
        frontend_config(ORIGIN, server.public_key_der(), manifest_key.public_key_der())
    )
    config["manifestKeyId"] = "0" * 64  # the page refuses an SPKI that is not its id's
    d.pages[page] = json.dumps(config).encode()
    assert (
        named(d, "frontend pins").status == FAIL
        and "manifest key" in named(d, "frontend pins").detail
    )
    d.pages[page] = b"<html>not found</html>"
    assert named(d, "frontend pins").status == FAIL
    del d.pages[page]
    assert (
        named(d, "frontend pins").status == FAIL
        and "could not be fetched" in named(d, "frontend pins").detail
    )


def test_nobody_able_to_enroll_and_no_relying_party_are_warnings(deployment: Any) -> None:
    d, _, _ = deployment
    d.attached = 0
    d.secrets[REGISTRY] = json.dumps({"relying_parties": []})
    found = statuses(diagnose(d, now=NOW))
    assert (found["admin policy"], found["relying parties"]) == (WARN, WARN)


def test_a_registry_the_functions_would_refuse_fails(deployment: Any) -> None:
    d, _, _ = deployment
    d.secrets[REGISTRY] = json.dumps({"relying_parties": [{**PARTY, "return_urls": ["ftp://x"]}]})
    check = named(d, "relying parties")
    assert check.status == FAIL and "malformed" in check.detail


def test_every_runbook_the_doctor_names_exists(deployment: Any) -> None:
    """Each ``see`` is a file and a heading there (GitHub's anchor for it)."""
    source = Path(doctor.__file__).read_text()
    links = set(re.findall(r"docs/[A-Z]+\.md(?:#[a-z0-9-]+)?", source))
    assert len(links) >= 8, links
    for link in links:
        path, _, anchor = link.partition("#")
        text = (ROOT / path).read_text()
        headings = {_anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}
        assert not anchor or anchor in headings, (link, sorted(headings))


def _anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


# ---------------------------------------------------------------- end to end: CLI, boto3, moto

STACK_REGION = "eu-west-1"  # the stack's; the environment's default region is another one
MODEL = b"\x08\x07 not really onnx, published all the same"


@dataclasses.dataclass
class World:
    """A deployment on moto as ``deploy.yml`` leaves it, and the handles to break it."""

    outputs: dict[str, str]
    site: Path
    origin: str
    mongo_uri: str


def _serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, threading.Thread]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A MongoDB wire server on 127.0.0.1 (no access control), stopped by its pid."""
    state = tmp_path_factory.mktemp("mongo")
    port = procs.free_port()
    proc = procs.start(
        [str(Path(sys.executable).parent / "nx-27017"), "--host", "127.0.0.1", "-p", str(port),
         "--data-dir", str(state), "--pid-file", str(state / "pid"),
         "--log-file", str(state / "log")],
        log_path=state / "out",
    )  # fmt: skip
    try:
        procs.wait_for_port(port, proc=proc)
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        procs.stop(proc)


def _kms_key(kms: Any) -> str:
    spec = {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}
    return str(kms.create_key(**spec)["KeyMetadata"]["Arn"])


@pytest.fixture
def world(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mongo: str, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    """Everything a working deployment has, built with the package's own deploy steps where
    there is one (``models publish`` through KMS, ``frontend_config`` from KMS's keys)."""
    import boto3
    from moto import mock_aws

    from secureface.adapters.aws import KmsSigner, reset_clients
    from secureface.cli import main

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", STACK_REGION)  # while deploying
    server, thread = _serve(tmp_path)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    with mock_aws():
        reset_clients()
        try:
            kms = boto3.client("kms")
            keys = {name: _kms_key(kms) for name in ("SigningKeyArn", "ManifestKeyArn")}
            keys["ResultKeyArn"] = _kms_key(kms)
            keys["DataKeyArn"] = kms.create_key()["KeyMetadata"]["Arn"]
            boto3.client("s3").create_bucket(
                Bucket="sf-models", CreateBucketConfiguration={"LocationConstraint": STACK_REGION}
            )
            sm = boto3.client("secretsmanager")
            secrets = {
                f"{f}MongoSecretArn": sm.create_secret(
                    Name=f"sf/mongodb/{f}", SecretString=f"{mongo}?appName={f}"
                )["ARN"]
                for f in FUNCTIONS
            }
            registry = json.dumps({"relying_parties": [PARTY]})
            rp = sm.create_secret(Name="sf/relying-parties", SecretString=registry)["ARN"]
            iam = boto3.client("iam")
            statement = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}
            document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
            policy = iam.create_policy(PolicyName="sf-admin", PolicyDocument=document)
            policy_arn = policy["Policy"]["Arn"]
            iam.create_role(RoleName="enroller", AssumeRolePolicyDocument=document)
            iam.attach_role_policy(RoleName="enroller", PolicyArn=policy_arn)
            outputs = {
                **keys, **secrets, "RelyingPartiesSecretArn": rp,
                "EnrollmentAdminPolicyArn": policy_arn, "ModelBucketName": "sf-models",
                "FrontendUrl": origin,
                "ApiUrl": f"https://abc.execute-api.{STACK_REGION}.amazonaws.com",
            }  # fmt: skip
            template = {
                "Parameters": {"MinManifestVersion": {"Type": "Number"}},
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()},
            }
            boto3.client("cloudformation").create_stack(
                StackName="sf",
                TemplateBody=json.dumps(template),
                Parameters=[{"ParameterKey": "MinManifestVersion", "ParameterValue": "2"}],
            )
            (tmp_path / "m.onnx").write_bytes(MODEL)
            entry = {"name": "yunet", "version": "v1", "role": "detector", "file": "m.onnx",
                     "sha256": hashlib.sha256(MODEL).hexdigest(), "size": len(MODEL)}  # fmt: skip
            catalog = tmp_path / "catalog.json"
            catalog.write_text(json.dumps({"manifest_version": 2, "models": [entry]}))
            publish = ["models", "publish", "--catalog", str(catalog), "--ttl", "1209600",
                       "--models-dir", str(tmp_path), "--bucket", "sf-models",
                       "--manifest-key", keys["ManifestKeyArn"],
                       "--data-key", keys["DataKeyArn"]]  # fmt: skip
            assert main(publish) == 0  # as deploy.yml does
            capsys.readouterr()
            (tmp_path / "config.json").write_bytes(
                frontend_config(
                    origin,
                    KmsSigner(keys["SigningKeyArn"]).public_key_der(),
                    KmsSigner(keys["ManifestKeyArn"]).public_key_der(),
                )
            )
            monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the operator's default
            reset_clients()
            yield World(outputs, tmp_path, origin, mongo)
        finally:
            reset_clients()
            server.shutdown()
            thread.join(timeout=5)
            server.server_close()


def client(service: str = "kms") -> Any:
    import boto3

    return boto3.client(service, region_name=STACK_REGION)


def public_key(arn: str) -> bytes:
    return bytes(client().get_public_key(KeyId=arn)["PublicKey"])


def update_stack(*, floor: str = "", outputs: dict[str, str] | None = None) -> None:
    """A stack update: another MinManifestVersion, other output values."""
    cloudformation = client("cloudformation")
    body = cloudformation.get_template(StackName="sf")["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else dict(body)
    for name, value in (outputs or {}).items():
        template["Outputs"][name]["Value"] = value
    floor_value = {"ParameterValue": floor} if floor else {"UsePreviousValue": True}
    cloudformation.update_stack(
        StackName="sf",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "MinManifestVersion", **floor_value}],
    )


def doctor_json(capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, dict[str, Any]]:
    from secureface.cli import main

    code = main(["doctor", "--stack", "sf", "--region", STACK_REGION, "--json", *flags])
    return code, {c["name"]: c for c in json.loads(capsys.readouterr().out)}


@pytest.mark.loopback  # moto server and the page on 127.0.0.1
def test_the_cli_passes_a_deployment_set_up_right_in_another_region(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from secureface.cli import main

    code, checks = doctor_json(capsys, "--ping")
    assert code == 0, checks
    assert {c["status"] for c in checks.values()} == {OK}
    assert "MongoDB answers a ping" in checks["mongodb (verify)"]["detail"]
    assert checks["manifest"]["detail"].startswith("version 2 (floor 2), expires in 1209")
    assert main(["doctor", "--stack", "sf", "--region", STACK_REGION]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 9 and all(line.startswith("OK ") for line in table)


@pytest.mark.loopback  # moto server and the page on 127.0.0.1
def test_the_cli_fails_a_manifest_signed_by_another_kms_key(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attack the pin exists for: a valid, fresh manifest with the right version, signed
    by a KMS key of the same account that is not ManifestKey (the server key, say)."""
    s3 = client("s3")
    genuine = s3.get_object(Bucket="sf-models", Key=MANIFEST_KEY)["Body"].read().decode()
    payload = json.loads(b64url_decode(genuine.split(".")[1], field="payload"))
    manifest = build_manifest(
        payload["manifest_version"],
        [ModelEntry.from_json(m) for m in payload["models"]],
        now=payload["issued_at"],
        ttl_s=payload["expires_at"] - payload["issued_at"],
    )
    other = world.outputs["SigningKeyArn"]

    def sign(message: bytes) -> bytes:
        answer = client().sign(
            KeyId=other, Message=message, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
        )
        return bytes(answer["Signature"])

    forged = sign_manifest(manifest, sign, kid=key_fingerprint(public_key(other)))
    s3.put_object(Bucket="sf-models", Key=MANIFEST_KEY, Body=forged.encode())
    code, checks = doctor_json(capsys)
    assert code == 1
    assert checks["manifest"]["status"] == FAIL
    assert "does not verify with ManifestKey" in checks["manifest"]["detail"]


@pytest.mark.loopback  # moto server and the page on 127.0.0.1
def test_the_cli_fails_a_floor_above_the_published_version(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    update_stack(floor="3")
    code, checks = doctor_json(capsys)
    assert code == 1 and checks["manifest"]["status"] == FAIL
    assert "rollback: version 2 < 3" in checks["manifest"]["detail"]


@pytest.mark.loopback  # moto server and the page on 127.0.0.1
def test_the_cli_fails_a_page_that_pins_another_server_key(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    other = public_key(world.outputs["ResultKeyArn"])
    manifest_key = public_key(world.outputs["ManifestKeyArn"])
    (world.site / "config.json").write_bytes(frontend_config(world.origin, other, manifest_key))
    code, checks = doctor_json(capsys)
    assert code == 1 and checks["frontend pins"]["status"] == FAIL
    assert "server key" in checks["frontend pins"]["detail"]


@pytest.mark.loopback  # moto server and the page on 127.0.0.1
def test_the_cli_warns_when_nobody_can_enroll_and_no_party_is_registered(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    client("iam").detach_role_policy(
        RoleName="enroller", PolicyArn=world.outputs["EnrollmentAdminPolicyArn"]
    )
    client("secretsmanager").put_secret_value(
        SecretId=world.outputs["RelyingPartiesSecretArn"], SecretString='{"relying_parties": []}'
    )
    code, checks = doctor_json(capsys)
    assert code == 0  # warnings only
    assert checks["admin policy"]["status"] == checks["relying parties"]["status"] == WARN


@pytest.mark.loopback  # moto server and the page on 127.0.0.1
def test_the_cli_never_prints_a_connection_string(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unset, foreign, unparsable and refused connection strings, each with the planted
    password and a host name: the output (JSON, table, stderr) names the problem, never the
    string."""
    from secureface.cli import main

    sm = client("secretsmanager")
    host = world.mongo_uri.removeprefix("mongodb://").rstrip("/")
    planted = {
        "Model": f"postgres://model:{PLANTED}@db.internal.example/",
        "Transactions": f"mongodb://tx:{PLANTED}@{host}:notaport/",  # the URI does not parse
        "Verify": f"mongodb://verify:{PLANTED}@{host}/",  # the login fails
    }
    for function, value in planted.items():
        sm.put_secret_value(SecretId=world.outputs[f"{function}MongoSecretArn"], SecretString=value)
    unset = sm.create_secret(Name="sf/mongodb/never-set")["ARN"]
    update_stack(outputs={"KeyExchangeMongoSecretArn": unset})
    code, checks = doctor_json(capsys, "--ping")
    assert code == 1
    assert {f: checks[f"mongodb ({f.lower()})"]["status"] for f in FUNCTIONS} == dict.fromkeys(
        FUNCTIONS, FAIL
    )
    assert "has no value" in checks["mongodb (keyexchange)"]["detail"]
    assert "not a mongodb" in checks["mongodb (model)"]["detail"]
    assert "not usable (ValueError)" in checks["mongodb (transactions)"]["detail"]
    assert "did not answer" in checks["mongodb (verify)"]["detail"]
    assert main(["doctor", "--stack", "sf", "--region", STACK_REGION, "--ping"]) == 1
    printed = capsys.readouterr()
    text = json.dumps(checks) + printed.out + printed.err
    for leak in (PLANTED, "db.internal.example", "notaport", host):
        assert leak not in text, leak


@pytest.mark.loopback  # moto server and the page on 127.0.0.1
def test_the_cli_exits_1_without_the_stack_and_2_on_bad_usage(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from secureface.cli import main

    assert main(["doctor", "--stack", "nope", "--region", STACK_REGION]) == 1
    assert "no stack named nope" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        main(["doctor", "--region", STACK_REGION])  # no --stack
    assert usage.value.code == 2
