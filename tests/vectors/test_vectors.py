"""The Python side of the cross-language vectors (frontend/test checks the JavaScript side)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.ecdsa import load_public_key
from secureface.crypto.stream import StreamOpener, StreamSealer
from secureface.encoding import b64url_decode
from secureface.errors import IntegrityError
from secureface.models.manifest import verify_manifest_at
from secureface.sessions.exchange import finish_exchange_at
from secureface.sessions.sealed import REQUEST_LABEL, RESPONSE_LABEL, open_message

REPO = Path(__file__).resolve().parents[2]
VECTORS: dict[str, Any] = json.loads((REPO / "tests/vectors/protocol.json").read_text())


def root() -> ec.EllipticCurvePublicKey:
    return load_public_key(b64url_decode(VECTORS["root_spki"]))


def test_vectors_files_are_what_the_generator_writes() -> None:
    paths = os.pathsep.join([str(REPO / "layers/secureface"), str(REPO / "tools"), str(REPO)])
    result = subprocess.run(
        [sys.executable, "-m", "vectors", "--check"], cwd=REPO, capture_output=True,
        text=True, env={"PYTHONPATH": paths, "PATH": os.environ.get("PATH", "")}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_vectors_file_has_a_generator_and_every_generator_a_file() -> None:
    from vectors import outputs

    written = {path.name for path, _, _ in outputs()}
    assert written == {p.name for p in (REPO / "tests" / "vectors").glob("*.json")}
    assert {"protocol.json", "constants.json"} <= written


def test_manifest_vector_verifies() -> None:
    v = VECTORS["manifest"]
    manifest = verify_manifest_at(v["token"], root(), now=v["now"])
    assert manifest.manifest_version == v["manifest_version"]
    assert [m.to_json() for m in manifest.models] == v["models"]
    with pytest.raises(IntegrityError):
        verify_manifest_at(v["token"], root(), now=v["expires_at"])


def test_exchange_vector_derives_the_expected_keys() -> None:
    v = VECTORS["exchange"]
    d = int.from_bytes(b64url_decode(v["client_private_jwk"]["d"]), "big")
    client_key = ec.derive_private_key(d, ec.SECP256R1())
    session = finish_exchange_at(
        v["response"], client_key, b64url_decode(v["client_nonce"]), root(), now=v["now"]
    )
    expected = v["expected"]
    assert session.session_id == expected["session_id"]
    assert session.keys.model.hex() == expected["model_key"]
    assert session.keys.request.hex() == expected["request_key"]
    assert session.keys.response.hex() == expected["response_key"]
    # the known answers the browser checks its non-extractable keys with
    for key, label, sealed in (
        (session.keys.request, REQUEST_LABEL, expected["request_sealed"]),
        (session.keys.response, RESPONSE_LABEL, expected["response_sealed"]),
    ):
        opened = open_message(key, label, session.session_id, sealed)
        assert opened == b64url_decode(sealed["plaintext"])
    assert VECTORS["stream"]["model_key"] == expected["model_key"]
    assert VECTORS["stream"]["session_id"] == expected["session_id"]


def test_stream_vector_opens_and_seals_identically() -> None:
    v = VECTORS["stream"]
    plaintext = bytes((7 * i + 3) % 256 for i in range(v["entry"]["size"]))
    key, sid = bytes.fromhex(v["model_key"]), bytes.fromhex(v["stream_id"])
    segments = [b64url_decode(s) for s in v["segments"]]
    opener = StreamOpener(key, sid, bytes.fromhex(v["header"]))
    assert opener.open_all(b"".join(segments)) == plaintext
    sealer = StreamSealer(key, sid, plaintext, v["segment_size"])
    assert [sealer.seal(i) for i in range(len(segments))] == segments


def test_result_token_vector_verifies_with_ours_and_with_pyjwt() -> None:
    import jwt

    from secureface.errors import IntegrityError
    from secureface.transactions.result import verify_result

    v = VECTORS["result_token"]
    expected = v["expected"]
    checks = {k: expected[k] for k in ("issuer", "audience", "nonce", "subject")}
    result = verify_result(v["token"], keys=v["jwks"], now=v["now"], **checks)
    assert result.claims() == expected["claims"]
    key = jwt.PyJWK(v["jwks"]["keys"][0])
    claims = jwt.decode(
        v["token"], key, algorithms=["ES256"], audience=expected["audience"],
        issuer=expected["issuer"], options={"verify_exp": False},
    )  # fmt: skip
    assert claims == expected["claims"]
    with pytest.raises(IntegrityError):
        verify_result(v["token"], keys=v["jwks"], now=v["now"], **{**checks, "nonce": "other"})
