"""The model function's own checks, on an in-memory bucket: a stored manifest below the deployed
minimum version is refused (the floor is not read from the bucket), and only the roles a browser
runs are served."""

from __future__ import annotations

import hashlib

import pytest

from secureface.crypto.ecdsa import load_public_key
from secureface.errors import ModelUnavailableError, NotFoundError
from secureface.models.delivery import ModelDelivery
from secureface.models.layout import MANIFEST_KEY, archived_manifest_key, model_key
from secureface.models.manifest import ModelEntry, build_manifest, sign_manifest
from tests.fakes import LocalSigner, MemoryStore

NOW = 1_764_316_800
KEY = bytes(32)
BLOBS = {"detector": b"d" * 100, "antispoof": b"a" * 100, "embedding": b"e" * 100,
         "landmarks": b"l" * 100}  # fmt: skip
ENTRIES = [
    ModelEntry(f"m-{role}", "1", role, hashlib.sha256(data).hexdigest(), len(data))
    for role, data in BLOBS.items()
]


def bucket(signer: LocalSigner, *versions: int) -> MemoryStore:
    """A bucket as publishing leaves it: each version archived, the last one current."""
    store = MemoryStore()
    for entry, data in zip(ENTRIES, BLOBS.values(), strict=True):
        store.put(model_key(entry.name, entry.version), data, {"sha256": entry.sha256})
    for version in versions:
        token = sign_manifest(build_manifest(version, ENTRIES, now=NOW, ttl_s=3600), signer.sign,
                              kid="kid").encode()  # fmt: skip
        store.put(archived_manifest_key(version), token, {})
        store.put(MANIFEST_KEY, token, {})
    return store


def delivery(signer: LocalSigner, store: MemoryStore, floor: int) -> ModelDelivery:
    public = load_public_key(signer.public_key_der())
    return ModelDelivery(store, lambda: public, min_version=floor)


def test_an_archived_manifest_copied_over_the_current_one_is_refused() -> None:
    signer = LocalSigner()
    store = bucket(signer, 1, 2)
    assert delivery(signer, store, floor=2).manifest_at(NOW).manifest_version == 2
    store.put(MANIFEST_KEY, store.get(archived_manifest_key(1)) or b"", {})  # the rollback
    assert delivery(signer, store, floor=0).manifest_at(NOW).manifest_version == 1  # before
    server = delivery(signer, store, floor=2)
    segments = lambda: server.segments_at("m-detector", "1", "s", KEY, None, None, NOW)  # noqa: E731
    for call in (lambda: server.manifest_at(NOW), segments):
        with pytest.raises(ModelUnavailableError) as info:
            call()
        assert info.value.reason == (
            "stored manifest: manifest rollback: version 1 < 2 "
            "(deployed minimum manifest version 2)"
        )


def test_a_manifest_far_above_the_deployed_minimum_is_refused_too() -> None:
    signer = LocalSigner()
    with pytest.raises(ModelUnavailableError) as info:
        delivery(signer, bucket(signer, 1003), floor=2).manifest_at(NOW)
    assert "manifest version jump: 1003 > 2 + 1000" in info.value.reason
    assert delivery(signer, bucket(signer, 1002), floor=2).manifest_at(NOW).manifest_version


def test_only_the_roles_a_browser_runs_are_served() -> None:
    signer = LocalSigner()
    server = delivery(signer, bucket(signer, 2), floor=2)
    for role in ("detector", "antispoof"):
        assert server.segments_at(f"m-{role}", "1", "s", KEY, None, None, NOW)
    for role in ("embedding", "landmarks"):
        with pytest.raises(NotFoundError):
            server.segments_at(f"m-{role}", "1", "s", KEY, None, None, NOW)
        # ... while the verify function still loads them through the same checks.
        entry = server.manifest_at(NOW).find(f"m-{role}", "1")
        assert entry is not None and server.model_bytes(entry) == BLOBS[role]
