"""Model delivery through the running stack: the models a browser runs, verified end to end;
the server-only models refused; a rolled-back manifest refused by the server and the client."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secureface.client import ApiError, browser_models
from secureface.crypto.ecdsa import key_fingerprint
from secureface.errors import IntegrityError
from secureface.models.catalog import load_catalog
from secureface.models.layout import MANIFEST_KEY, archived_manifest_key
from secureface.models.manifest import BROWSER_ROLES, build_manifest, sign_manifest
from tests.helpers import (
    client_for,
    database,
    error_body,
    http,
    models_session,
    s3_client,
    start_login,
)

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(REPO / "model_versions.json")


def test_python_client_fetches_and_verifies_every_browser_model(
    stack: dict[str, Any], tmp_path: Path
) -> None:
    client = client_for(stack, tmp_path / "state.json")
    manifest = client.fetch_manifest()
    session = models_session(client, stack)
    wanted = [m for m in CATALOG.models if m.entry.role in BROWSER_ROLES]
    assert {m.entry for m in wanted} == set(browser_models(manifest))
    for model in wanted:
        entry = manifest.find(model.entry.name, model.entry.version)
        assert entry is not None
        assert client.fetch_model(session, entry) == (REPO / "s3-uploads" / model.file).read_bytes()


def test_the_server_only_models_are_not_served_to_a_session(stack: dict[str, Any]) -> None:
    client = client_for(stack)
    manifest = client.fetch_manifest()
    session = models_session(client, stack)
    server_only = [m for m in manifest.models if m.role not in BROWSER_ROLES]
    assert {m.role for m in server_only} == {"embedding", "landmarks"}  # sface, facemesh
    for entry in server_only:
        url = f"{stack['urls']['api']}/models/{entry.name}/{entry.version}/segments?first=0&count=1"
        status, _, body = http("GET", url, headers={"X-SecureFace-Session": session.session_id})
        assert (status, error_body(body)["code"]) == (404, "not_found"), entry.name
        with pytest.raises(ApiError) as info:
            client.fetch_model(session, entry)
        assert (info.value.status, info.value.code) == (404, "not_found")


def test_bytes_on_the_wire_are_model_size_plus_tags_and_headers(stack: dict[str, Any]) -> None:
    client = client_for(stack)
    manifest = client.fetch_manifest()
    session = models_session(client, stack)
    entry = max(browser_models(manifest), key=lambda m: m.size)
    ranges = client.fetch_ranges(session, entry)
    wire = sum(map(len, ranges))
    assert wire <= 1.001 * entry.size + 32 * len(ranges)
    assert all(len(r) < 6 * 1024 * 1024 * 3 // 4 for r in ranges)  # fits Lambda's cap in base64


def test_cli_fetch_models_writes_verified_files(stack: dict[str, Any], tmp_path: Path) -> None:
    key = Path(stack["state_dir"]) / "server-key.pem"
    manifest_key = Path(stack["state_dir"]) / "manifest-key.pem"
    result = subprocess.run(
        [sys.executable, "-m", "secureface", "fetch-models", "--api", stack["urls"]["api"],
         "--server-key", str(key), "--manifest-key", str(manifest_key),
         "--out", str(tmp_path / "models"),
         "--state-file", str(tmp_path / "state.json"),
         "--client-token", start_login(stack).token],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PYTHONPATH": str(REPO / "layers/secureface"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    wanted = [m for m in CATALOG.models if m.entry.role in BROWSER_ROLES]
    assert f"{len(wanted)} models verified" in result.stdout
    written = {p.name for p in (tmp_path / "models").iterdir()}
    assert written == {f"{m.entry.name}-{m.entry.version}.onnx" for m in wanted}
    for model in wanted:
        path = tmp_path / "models" / f"{model.entry.name}-{model.entry.version}.onnx"
        assert path.read_bytes() == (REPO / "s3-uploads" / model.file).read_bytes()


def test_session_keys_are_stored_only_encrypted(stack: dict[str, Any]) -> None:
    session = models_session(client_for(stack), stack)
    db = database(stack)
    doc = db["sessions"].find_one({"_id": session.session_id})
    assert doc is not None
    stored = repr(doc).encode() + b"".join(bytes(v) for v in doc["keys"].values())
    for key in (session.keys.model, session.keys.request, session.keys.response):
        assert key not in stored
    assert len(doc["keys"]["ct"]) == 96 + 16
    assert doc["used"] is False and doc["expire_at"] is not None


# ------------------------------------------------------------------ rollback of the manifest


@contextlib.contextmanager
def stored_manifest(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, *, version: int, key_id: str
) -> Iterator[str]:
    """A fresh, unexpired manifest of ``version`` signed by the KMS key ``key_id``, archived as
    publishing archives every version and copied over ``manifest/current.jws``. The published
    manifest is put back afterwards."""
    from secureface.adapters.aws import KmsSigner, reset_clients

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.setenv(name, stack["env"][name])
    monkeypatch.setenv("AWS_DEFAULT_REGION", stack["env"]["AWS_REGION"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", stack["urls"]["aws"])
    reset_clients()
    kms = KmsSigner(key_id)
    manifest = build_manifest(version, CATALOG.entries, now=int(time.time()), ttl_s=24 * 3600)
    token = sign_manifest(manifest, kms.sign, kid=key_fingerprint(kms.public_key_der()))
    reset_clients()
    s3, bucket = s3_client(stack), stack["model_bucket"]
    published = s3.get_object(Bucket=bucket, Key=MANIFEST_KEY)["Body"].read()
    archived = archived_manifest_key(version)
    s3.put_object(Bucket=bucket, Key=archived, Body=token.encode(),
                  ServerSideEncryption="aws:kms")  # fmt: skip
    s3.copy_object(Bucket=bucket, Key=MANIFEST_KEY, ServerSideEncryption="aws:kms",
                   CopySource={"Bucket": bucket, "Key": archived})  # fmt: skip
    try:
        yield token
    finally:
        s3.put_object(Bucket=bucket, Key=MANIFEST_KEY, Body=published,
                      ServerSideEncryption="aws:kms")  # fmt: skip


@pytest.fixture
def rolled_back(stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The attack: a validly signed, unexpired manifest one version below the published one
    (the catalog's) copied over ``manifest/current.jws``."""
    old = CATALOG.manifest_version - 1
    assert old >= 1
    with stored_manifest(stack, monkeypatch, version=old, key_id=stack["manifest_key_id"]) as t:
        yield t


def test_a_manifest_signed_by_the_server_key_is_refused_by_the_server_and_the_client(
    stack: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: the key-exchange function's key (online, where requests are parsed) signs a
    manifest of its choosing, current version and fresh, and it is put in the bucket. The model
    function checks manifests with the manifest key only (deploy role), and so do clients."""
    api = stack["urls"]["api"]
    client = client_for(stack, tmp_path / "state.json")
    session = models_session(client, stack)
    with stored_manifest(
        stack, monkeypatch, version=CATALOG.manifest_version + 1, key_id=stack["signing_key_id"]
    ):
        detector = next(e for e in CATALOG.entries if e.role == "detector")
        url = f"{api}/models/{detector.name}/{detector.version}/segments?first=0&count=1"
        status, _, body = http("GET", url, headers={"X-SecureFace-Session": session.session_id})
        assert (status, error_body(body)["code"]) == (503, "model_unavailable")
        log = (Path(stack["state_dir"]) / "logs" / "ModelFunction.log").read_text(errors="replace")
        assert "signature does not verify" in log
        with pytest.raises(IntegrityError) as info:
            client.fetch_manifest()
        assert info.value.reason == "signature does not verify"
        assert client.highest_seen_version() == 0  # nothing refused raised the mark
    # The published manifest back in place: served again (the refusal was the signature's).
    status, _, _ = http("GET", url, headers={"X-SecureFace-Session": session.session_id})
    assert status == 200


def test_a_rolled_back_manifest_is_refused_by_the_server_and_the_client(
    stack: dict[str, Any], tmp_path: Path, rolled_back: str
) -> None:
    api = stack["urls"]["api"]
    # A client that accepted the published manifest before, and one that never saw any.
    (tmp_path / "state.json").write_text(f'{{"manifest_version": {CATALOG.manifest_version}}}')
    seen, fresh = client_for(stack, tmp_path / "state.json"), client_for(stack)
    # The manifest route passes the stored bytes through: it is the attacker's manifest.
    status, _, body = http("GET", api + "/models/manifest")
    assert status == 200 and rolled_back in body.decode()

    # The model function refuses it: the floor comes from model_versions.json via the template.
    session = models_session(fresh, stack)
    detector = next(e for e in CATALOG.entries if e.role == "detector")
    url = f"{api}/models/{detector.name}/{detector.version}/segments?first=0&count=1"
    status, _, body = http("GET", url, headers={"X-SecureFace-Session": session.session_id})
    assert (status, error_body(body)["code"]) == (503, "model_unavailable")
    log = (Path(stack["state_dir"]) / "logs" / "ModelFunction.log").read_text(errors="replace")
    old, floor = CATALOG.manifest_version - 1, CATALOG.manifest_version
    assert f"manifest rollback: version {old} < {floor}" in log
    assert f"deployed minimum manifest version {floor}" in log

    # The Python client: rollback below what it saw; without a high-water mark it takes the
    # manifest (a first run cannot know), and the server refuses every model.
    with pytest.raises(IntegrityError) as info:
        seen.fetch_manifest()
    assert info.value.reason == f"manifest rollback: version {old} < {floor}"
    manifest = fresh.fetch_manifest()
    assert manifest.manifest_version == old
    for entry in browser_models(manifest):
        with pytest.raises(ApiError) as refused:
            fresh.fetch_model(session, entry)
        assert (refused.value.status, refused.value.code) == (503, "model_unavailable")
