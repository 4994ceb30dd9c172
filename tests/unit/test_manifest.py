"""The signed manifest: JWS format, and every rejection a client relies on (lifetime and version
jump caps included, in the Python client too)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from secureface.client import SecureFaceClient
from secureface.crypto.ecdsa import load_public_key
from secureface.encoding import b64url_decode, b64url_encode
from secureface.errors import IntegrityError
from secureface.models.manifest import (
    BROWSER_ROLES,
    MAX_LIFETIME_S,
    MAX_VERSION_JUMP,
    ROLES,
    Manifest,
    ModelEntry,
    build_manifest,
    sign_manifest,
    verify_manifest_at,
)
from tests.fakes import LocalSigner

NOW = 1_764_316_800
ROOT = Path(__file__).resolve().parents[2]
ENTRY = ModelEntry("yunet", "2023mar", "detector", "ab" * 32, 1234)


@pytest.fixture
def signer() -> LocalSigner:
    return LocalSigner()


def signed(signer: LocalSigner, version: int = 3, ttl: int = 3600) -> str:
    manifest = build_manifest(version, [ENTRY], now=NOW, ttl_s=ttl)
    return sign_manifest(manifest, signer.sign, kid="kid")


def pub(signer: LocalSigner):  # type: ignore[no-untyped-def]
    return load_public_key(signer.public_key_der())


def test_valid_manifest_round_trips(signer: LocalSigner) -> None:
    manifest = verify_manifest_at(signed(signer), pub(signer), now=NOW + 10, min_version=3)
    assert manifest.manifest_version == 3
    assert manifest.expires_at == NOW + 3600
    assert manifest.find("yunet", "2023mar") == ENTRY


def test_signature_is_raw_r_s_and_header_is_es256(signer: LocalSigner) -> None:
    header, _, sig = signed(signer).split(".")
    assert json.loads(b64url_decode(header)) == {
        "alg": "ES256",
        "kid": "kid",
        "typ": "secureface-manifest+jws",
    }
    assert len(b64url_decode(sig)) == 64


def test_tampered_payload_is_rejected(signer: LocalSigner) -> None:
    header, payload, sig = signed(signer).split(".")
    raw = json.loads(b64url_decode(payload))
    raw["models"][0]["sha256"] = "cd" * 32
    forged = b64url_encode(json.dumps(raw).encode())
    with pytest.raises(IntegrityError) as info:
        verify_manifest_at(f"{header}.{forged}.{sig}", pub(signer), now=NOW)
    assert info.value.reason == "signature does not verify"


def test_signature_by_another_key_is_rejected(signer: LocalSigner) -> None:
    with pytest.raises(IntegrityError):
        verify_manifest_at(signed(LocalSigner()), pub(signer), now=NOW)


def test_expired_manifest_is_rejected(signer: LocalSigner) -> None:
    with pytest.raises(IntegrityError) as info:
        verify_manifest_at(signed(signer, ttl=60), pub(signer), now=NOW + 60)
    assert info.value.reason == "manifest expired"


def test_manifest_from_the_future_is_rejected(signer: LocalSigner) -> None:
    with pytest.raises(IntegrityError, match="Integrity"):
        verify_manifest_at(signed(signer), pub(signer), now=NOW - 3600)


def test_rollback_to_lower_version_is_rejected(signer: LocalSigner) -> None:
    with pytest.raises(IntegrityError) as info:
        verify_manifest_at(signed(signer, version=2), pub(signer), now=NOW, min_version=3)
    assert "rollback" in info.value.reason


def test_alg_none_and_other_algs_are_rejected(signer: LocalSigner) -> None:
    _, payload, sig = signed(signer).split(".")
    for alg in ("none", "HS256", "ES384"):
        header = b64url_encode(json.dumps({"alg": alg, "typ": "secureface-manifest+jws"}).encode())
        with pytest.raises(IntegrityError):
            verify_manifest_at(f"{header}.{payload}.{sig}", pub(signer), now=NOW)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.", "x" * (1 << 21)])
def test_malformed_tokens_are_integrity_errors(signer: LocalSigner, token: str) -> None:
    with pytest.raises(IntegrityError):
        verify_manifest_at(token, pub(signer), now=NOW)


def test_payload_is_canonical_and_sorted() -> None:
    other = ModelEntry("antispoof", "1", "antispoof", "cd" * 32, 10)
    manifest = build_manifest(1, [ENTRY, other], now=NOW, ttl_s=10)
    assert [m.name for m in manifest.models] == ["antispoof", "yunet"]
    assert Manifest.from_payload(manifest.to_payload()) == manifest
    assert b" " not in manifest.to_payload()


@pytest.mark.parametrize(
    "field,value",
    [("name", "../etc"), ("name", "UPPER"), ("version", "a/b"), ("role", "root"),
     ("sha256", "zz"), ("size", 0), ("size", True)],
)  # fmt: skip
def test_invalid_entries_are_refused(field: str, value: object) -> None:
    raw = ENTRY.to_json() | {field: value}
    with pytest.raises(ValueError):
        ModelEntry.from_json(raw)


# ----------------------------------------------------------------- lifetime and version caps

DAY = 24 * 3600


def test_a_manifest_valid_for_more_than_90_days_is_refused(signer: LocalSigner) -> None:
    assert MAX_LIFETIME_S == 90 * DAY  # template.yaml ManifestTtlSeconds MaxValue
    verify_manifest_at(signed(signer, ttl=90 * DAY), pub(signer), now=NOW)
    for ttl in (90 * DAY + 1, 100 * 365 * DAY, 0):
        with pytest.raises(IntegrityError) as info:
            verify_manifest_at(signed(signer, ttl=ttl), pub(signer), now=NOW)
        assert info.value.reason.startswith(f"manifest lifetime {ttl} s is outside")


def test_a_version_jump_over_1000_is_refused_once_a_version_was_seen(signer: LocalSigner) -> None:
    assert MAX_VERSION_JUMP == 1000
    verify_manifest_at(signed(signer, version=1003), pub(signer), now=NOW, min_version=3)
    for version in (1004, 2**53 - 1):
        with pytest.raises(IntegrityError) as info:
            verify_manifest_at(signed(signer, version=version), pub(signer), now=NOW, min_version=3)
        assert info.value.reason == f"manifest version jump: {version} > 3 + 1000"
    # Nothing seen yet: any version is taken, and becomes the high-water mark.
    verify_manifest_at(signed(signer, version=5000), pub(signer), now=NOW)


class StubbedClient(SecureFaceClient):
    """The Python client with its HTTP answered from a list of tokens (one per request)."""

    def __init__(self, signer: LocalSigner, state_file: Path, now: int = NOW) -> None:
        super().__init__(
            "https://api.test",
            LocalSigner().public_key_der(),  # the server key: sessions, never the manifest
            manifest_spki=signer.public_key_der(),
            state_file=state_file,
        )
        self.clock = lambda: float(now)
        self.tokens: list[str] = []

    def request(self, method: str, path: str, **_: Any) -> bytes:
        assert (method, path) == ("GET", "/models/manifest")
        return json.dumps({"format": "jws-compact", "manifest": self.tokens.pop(0)}).encode()


def test_the_python_client_caps_lifetime_and_version_jump(
    signer: LocalSigner, tmp_path: Path
) -> None:
    client = StubbedClient(signer, tmp_path / "state.json")
    client.tokens = [signed(signer, version=3)]
    assert client.fetch_manifest().manifest_version == 3
    assert client.highest_seen_version() == 3
    refused = {
        "manifest version jump: 1004 > 3 + 1000": signed(signer, version=1004),
        "manifest rollback: version 2 < 3": signed(signer, version=2),
        f"manifest lifetime {91 * DAY} s is outside 1..{90 * DAY}": signed(signer, ttl=91 * DAY),
    }
    for reason, token in refused.items():
        client.tokens = [token]
        with pytest.raises(IntegrityError) as info:
            client.fetch_manifest()
        assert info.value.reason == reason
    assert client.highest_seen_version() == 3  # nothing refused raised the mark
    client.tokens = [signed(signer, version=1003)]
    assert client.fetch_manifest().manifest_version == 1003
    assert client.highest_seen_version() == 1003


def test_the_python_client_checks_the_manifest_with_the_manifest_key_only(
    signer: LocalSigner, tmp_path: Path
) -> None:
    """The attack: the key exchange's key (online in a function) signs a manifest of its own.
    The client pins the manifest key separately and refuses it; without that pin, it refuses
    to read any manifest."""
    client = StubbedClient(signer, tmp_path / "state.json")
    server_key = LocalSigner()
    client.pinned = load_public_key(server_key.public_key_der())
    client.tokens = [signed(server_key, version=3)]
    with pytest.raises(IntegrityError) as info:
        client.fetch_manifest()
    assert info.value.reason == "signature does not verify"
    unpinned = SecureFaceClient("https://api.test", server_key.public_key_der())
    with pytest.raises(IntegrityError) as info:
        unpinned.fetch_manifest()
    assert info.value.reason == "no manifest key pinned"
    assert client.highest_seen_version() == 0


# ----------------------------------------------------------------- browser roles


def test_browser_roles_are_the_frontends_and_leave_the_embedder_on_the_server() -> None:
    config = (ROOT / "frontend" / "src" / "config.js").read_text()
    found = re.search(r"browserRoles: Object\.freeze\(\[([^\]]*)\]\)", config)
    assert found, "frontend/src/config.js DEFAULTS.browserRoles not found"
    assert set(re.findall(r'"([a-z]+)"', found.group(1))) == BROWSER_ROLES
    assert BROWSER_ROLES < ROLES
    assert "embedding" not in BROWSER_ROLES and "landmarks" not in BROWSER_ROLES
