"""Property-based fuzzing of every parser that sees untrusted bytes: each either succeeds or
raises its documented SecureFaceError, never anything else (which would be a 500)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from secureface.crypto.ecdsa import load_public_key
from secureface.crypto.jws import verify_compact
from secureface.crypto.stream import StreamHeader
from secureface.encoding import b64url_decode, b64url_encode
from secureface.errors import SecureFaceError
from secureface.models.manifest import Manifest
from secureface.sessions.challenge import Challenge
from secureface.sessions.exchange import parse_request
from secureface.sessions.sealed import REQUEST_LABEL, open_message
from secureface.verify.request import parse_payload
from tests.fakes import LocalSigner

KEY = load_public_key(LocalSigner().public_key_der())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def only_documented_errors(call: Any, *args: Any) -> None:
    with contextlib.suppress(SecureFaceError):
        call(*args)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=64))
def test_b64url_decode(text: str) -> None:
    only_documented_errors(b64url_decode, text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_stream_header(data: bytes) -> None:
    only_documented_errors(StreamHeader.decode, data)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_manifest_payload(value: Any) -> None:
    only_documented_errors(Manifest.from_payload, json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(max_size=40) | json_values.map(lambda v: b64url_encode(json.dumps(v).encode())),
        min_size=0,
        max_size=4,
    )
)
def test_jws(parts: list[str]) -> None:
    only_documented_errors(lambda: verify_compact(".".join(parts), KEY, typ="x"))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["version", "client_public_key", "client_nonce", "x"]), json_values
    )
)
def test_session_request(body: dict[str, Any]) -> None:
    only_documented_errors(parse_request, body)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["nonce", "ciphertext", "session_id"]), json_values | st.text())
)
def test_sealed_message(body: dict[str, Any]) -> None:
    only_documented_errors(open_message, bytes(32), REQUEST_LABEL, "A" * 22, body)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=256), st.integers(min_value=1, max_value=8))
def test_verify_payload(data: bytes, frames: int) -> None:
    only_documented_errors(lambda: parse_payload(data, capture_ms=frames * 100))


@settings(max_examples=200, deadline=None)
@given(json_values, st.binary(max_size=64))
def test_verify_payload_with_json_meta(meta: Any, tail: bytes) -> None:
    raw = json.dumps(meta).encode()
    only_documented_errors(
        lambda: parse_payload(len(raw).to_bytes(4, "big") + raw + tail, capture_ms=6000)
    )


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"type": st.just("secureface-model-manifest")},
        optional={
            k: json_values for k in ("manifest_version", "issued_at", "expires_at", "models")
        },
    )
)
def test_manifest_shaped_payload(value: dict[str, Any]) -> None:
    only_documented_errors(Manifest.from_payload, json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"type": st.just("secureface-model-manifest"), "manifest_version": st.just(1),
         "issued_at": st.just(1), "expires_at": st.just(2),
         "models": json_values | st.lists(st.dictionaries(st.sampled_from(
             ["name", "version", "role", "sha256", "size"]), json_values), max_size=3)},
    )
)  # fmt: skip
def test_manifest_model_entries(value: dict[str, Any]) -> None:
    only_documented_errors(Manifest.from_payload, json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={"mode": json_values | st.sampled_from(["light", "motion"]),
                  "moves": json_values | st.lists(st.sampled_from(
                      ["center", "left", "right", "up", "down", "x"]), max_size=6),
                  "move_ms": json_values, "light": json_values | st.lists(st.tuples(
                      st.sampled_from(["red", "blue", "cyan", "x"]), st.integers()), max_size=16)},
    )
)  # fmt: skip
def test_challenge(value: dict[str, Any]) -> None:
    only_documented_errors(Challenge.from_json, json.loads(json.dumps(value)))
