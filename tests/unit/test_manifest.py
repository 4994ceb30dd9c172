"""The signed manifest: JWS format, and every rejection a client relies on."""

from __future__ import annotations

import json

import pytest

from secureface.crypto.ecdsa import load_public_key
from secureface.encoding import b64url_decode, b64url_encode
from secureface.errors import IntegrityError
from secureface.models.manifest import (
    Manifest,
    ModelEntry,
    build_manifest,
    sign_manifest,
    verify_manifest_at,
)
from tests.fakes import LocalSigner

NOW = 1_764_316_800
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
