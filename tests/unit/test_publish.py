"""Publishing rules: verified files, immutable model objects, monotonic manifest, idempotence."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from secureface.crypto.ecdsa import load_public_key
from secureface.errors import PublishError
from secureface.models.catalog import load_catalog
from secureface.models.layout import MANIFEST_KEY
from secureface.models.manifest import MAX_LIFETIME_S, verify_manifest_at
from secureface.models.publish import publish_at
from tests.fakes import LocalSigner, MemoryStore

NOW = 1_764_316_800
TTL = 1000


def write_catalog(tmp: Path, version: int, blobs: dict[str, bytes]) -> Path:
    models = [
        {
            "name": name,
            "version": "1",
            "role": "detector",
            "file": f"{name}.onnx",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
        for name, data in blobs.items()
    ]
    for name, data in blobs.items():
        (tmp / f"{name}.onnx").write_bytes(data)
    path = tmp / "model_versions.json"
    path.write_text(json.dumps({"manifest_version": version, "models": models}))
    return path


@pytest.fixture
def env(tmp_path: Path) -> tuple[Path, MemoryStore, LocalSigner]:
    return tmp_path, MemoryStore(), LocalSigner()


def run(tmp: Path, store: MemoryStore, signer: LocalSigner, now: int = NOW):  # type: ignore[no-untyped-def]
    catalog = load_catalog(tmp / "model_versions.json")
    return publish_at(catalog, tmp, store, signer, now=now, ttl_s=TTL)


def test_publish_uploads_models_and_signs_manifest(env) -> None:  # type: ignore[no-untyped-def]
    tmp, store, signer = env
    write_catalog(tmp, 1, {"a": b"model-a", "b": b"model-b"})
    result = run(tmp, store, signer)
    assert result.uploaded == ["models/a/1/model.onnx", "models/b/1/model.onnx"]
    assert store.get("models/a/1/model.onnx") == b"model-a"
    assert store.metadata("models/a/1/model.onnx") == {
        "sha256": hashlib.sha256(b"model-a").hexdigest()
    }
    token = store.get(MANIFEST_KEY)
    assert token is not None
    manifest = verify_manifest_at(token.decode(), load_public_key(signer.public_key_der()), now=NOW)
    assert manifest.manifest_version == 1
    assert {m.name for m in manifest.models} == {"a", "b"}
    assert store.get("manifest/v00000001.jws") == token


def test_republishing_the_same_catalog_changes_nothing(env) -> None:  # type: ignore[no-untyped-def]
    tmp, store, signer = env
    write_catalog(tmp, 1, {"a": b"model-a"})
    run(tmp, store, signer)
    before = list(store.puts)
    second = run(tmp, store, signer, now=NOW + 10)
    assert not second.signed and not second.uploaded
    assert store.puts == before


def test_stale_manifest_is_resigned_with_same_version(env) -> None:  # type: ignore[no-untyped-def]
    tmp, store, signer = env
    write_catalog(tmp, 1, {"a": b"model-a"})
    run(tmp, store, signer)
    later = NOW + TTL // 2 + 1
    result = run(tmp, store, signer, now=later)
    assert result.signed and not result.uploaded
    token = store.get(MANIFEST_KEY)
    assert token is not None
    fresh = verify_manifest_at(token.decode(), load_public_key(signer.public_key_der()), now=later)
    assert (fresh.manifest_version, fresh.expires_at) == (1, later + TTL)


def test_file_differing_from_catalog_is_refused_before_upload(env) -> None:  # type: ignore[no-untyped-def]
    tmp, store, signer = env
    write_catalog(tmp, 1, {"a": b"model-a", "b": b"model-b"})
    (tmp / "b.onnx").write_bytes(b"tampered")
    with pytest.raises(PublishError, match=r"b\.onnx: sha256"):
        run(tmp, store, signer)
    assert store.puts == []


def test_lower_manifest_version_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    tmp, store, signer = env
    write_catalog(tmp, 5, {"a": b"model-a"})
    run(tmp, store, signer)
    write_catalog(tmp, 4, {"a": b"model-a"})
    with pytest.raises(PublishError, match="lower than the published 5"):
        run(tmp, store, signer)


def test_same_version_with_other_models_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    tmp, store, signer = env
    write_catalog(tmp, 2, {"a": b"model-a"})
    run(tmp, store, signer)
    write_catalog(tmp, 2, {"a": b"model-a", "c": b"model-c"})
    with pytest.raises(PublishError, match="bump manifest_version"):
        run(tmp, store, signer)


def test_changing_a_published_model_version_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    tmp, store, signer = env
    write_catalog(tmp, 1, {"a": b"model-a"})
    run(tmp, store, signer)
    write_catalog(tmp, 2, {"a": b"model-a-retrained"})
    with pytest.raises(PublishError, match="already published with another sha256"):
        run(tmp, store, signer)


def test_higher_version_adds_models_and_keeps_history(env) -> None:  # type: ignore[no-untyped-def]
    tmp, store, signer = env
    write_catalog(tmp, 1, {"a": b"model-a"})
    run(tmp, store, signer)
    write_catalog(tmp, 2, {"a": b"model-a", "c": b"model-c"})
    result = run(tmp, store, signer)
    assert result.uploaded == ["models/c/1/model.onnx"]
    assert result.skipped == ["models/a/1/model.onnx"]
    assert store.get("manifest/v00000001.jws") is not None
    assert store.get("manifest/v00000002.jws") == store.get(MANIFEST_KEY)


def test_manifest_signed_by_another_key_is_not_overwritten(env) -> None:  # type: ignore[no-untyped-def]
    tmp, store, signer = env
    write_catalog(tmp, 1, {"a": b"model-a"})
    run(tmp, store, LocalSigner())
    with pytest.raises(PublishError, match="does not verify"):
        run(tmp, store, signer)


def test_catalog_with_path_in_file_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model_versions.json"
    entry = {"name": "a", "version": "1", "role": "detector", "file": "../a.onnx",
             "sha256": "ab" * 32, "size": 1}  # fmt: skip
    path.write_text(json.dumps({"manifest_version": 1, "models": [entry]}))
    with pytest.raises(PublishError, match="invalid file"):
        load_catalog(path)


def test_a_ttl_clients_would_refuse_is_refused_before_upload(env) -> None:  # type: ignore[no-untyped-def]
    tmp, store, signer = env
    write_catalog(tmp, 1, {"a": b"model-a"})
    catalog = load_catalog(tmp / "model_versions.json")
    with pytest.raises(PublishError, match="outside"):
        publish_at(catalog, tmp, store, signer, now=NOW, ttl_s=MAX_LIFETIME_S + 1)
    assert store.puts == []
    publish_at(catalog, tmp, store, signer, now=NOW, ttl_s=MAX_LIFETIME_S)
