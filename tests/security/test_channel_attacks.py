"""Attacks on the secure channel, through the running stack. Each must be refused with its
documented error and never a 500 (docs/PROTOCOL.md, "Errors")."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from secureface.client import ApiError, browser_models, open_model
from secureface.crypto.delegation import DelegatedSigner
from secureface.crypto.stream import HEADER_LEN, TAG_LEN
from secureface.encoding import b64url_decode, b64url_encode
from secureface.errors import IntegrityError
from secureface.models.manifest import ModelEntry, verify_manifest_at
from secureface.models.segments import SEGMENT_SIZE
from secureface.sessions.exchange import accept_exchange_at, finish_exchange_at, new_client_hello
from tests.fakes import LocalSigner
from tests.helpers import client_for, database, error_body, http, models_session, start_login

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fetched(stack: dict[str, Any]) -> tuple[Any, Any, ModelEntry, list[bytes]]:
    """A session and the range responses of the largest model the server serves (the largest
    browser model: two segments), one segment per range so there are several ranges."""
    client = client_for(stack)
    manifest = client.fetch_manifest()
    session = models_session(client, stack)
    entry = max(browser_models(manifest), key=lambda m: m.size)
    ranges = client.fetch_ranges(session, entry, per_range=1)
    assert len(ranges) >= 2
    return client, session, entry, ranges


def flip(data: bytes, position: int) -> bytes:
    out = bytearray(data)
    out[position] ^= 0x80
    return bytes(out)


def test_flipped_bit_in_any_segment_is_refused(fetched) -> None:  # type: ignore[no-untyped-def]
    _, session, entry, ranges = fetched
    assert open_model(session, entry, ranges)  # the untouched stream opens
    for index in (0, len(ranges) // 2, len(ranges) - 1):
        size = len(ranges[index])
        for offset in {
            HEADER_LEN,
            min(HEADER_LEN + SEGMENT_SIZE + TAG_LEN + 5, size - 2),
            size - 1,
        }:
            broken = list(ranges)
            broken[index] = flip(ranges[index], offset)
            with pytest.raises(IntegrityError):
                open_model(session, entry, broken)


def test_dropped_last_segment_is_refused(fetched) -> None:  # type: ignore[no-untyped-def]
    _, session, entry, ranges = fetched
    last = ranges[-1]
    final_len = entry.size - SEGMENT_SIZE * ((entry.size - 1) // SEGMENT_SIZE) + TAG_LEN
    for truncated in (ranges[:-1], [*ranges[:-1], last[:-final_len]]):
        with pytest.raises(IntegrityError):
            open_model(session, entry, truncated)


def test_reordered_ranges_and_segments_are_refused(fetched) -> None:  # type: ignore[no-untyped-def]
    client, session, entry, ranges = fetched
    with pytest.raises(IntegrityError):
        open_model(session, entry, [ranges[1], ranges[0], *ranges[2:]])
    whole = client.fetch_ranges(session, entry)  # ranges of up to four segments
    seg = SEGMENT_SIZE + TAG_LEN
    body = whole[0][HEADER_LEN:]
    assert len(body) > seg  # at least two segments to swap
    swapped = whole[0][:HEADER_LEN] + body[seg : 2 * seg] + body[:seg] + body[2 * seg :]
    assert open_model(session, entry, whole)
    with pytest.raises(IntegrityError):
        open_model(session, entry, [swapped, *whole[1:]])


def test_range_from_another_session_is_refused(fetched, stack) -> None:  # type: ignore[no-untyped-def]
    client, session, entry, ranges = fetched
    other = models_session(client, stack)
    spliced = client.fetch_ranges(other, entry, per_range=1)
    with pytest.raises(IntegrityError):
        open_model(session, entry, [ranges[0], *spliced[1:]])


def test_expired_session_is_refused_by_the_server(stack: dict[str, Any], fetched) -> None:  # type: ignore[no-untyped-def]
    client, _, entry, _ = fetched
    session = models_session(client, stack)
    db = database(stack)
    db["sessions"].update_one(
        {"_id": session.session_id}, {"$set": {"expires_at": int(time.time()) - 1}}
    )
    with pytest.raises(ApiError) as info:
        client.fetch_ranges(session, entry)
    assert (info.value.status, info.value.code) == (401, "session_invalid")


@pytest.mark.parametrize("session_id", ["", "x" * 22, "../../etc/passwd", "A" * 5000])
def test_unknown_or_malformed_session_is_refused(stack: dict[str, Any], session_id: str) -> None:
    url = stack["urls"]["api"] + "/models/yunet/2023mar/segments?first=0&count=1"
    status, _, body = http("GET", url, headers={"X-SecureFace-Session": session_id})
    assert status == 401 and error_body(body)["code"] == "session_invalid"


def test_man_in_the_middle_server_key_is_refused(stack: dict[str, Any]) -> None:
    key, nonce, body = new_client_hello()
    impostor = LocalSigner()
    answer = accept_exchange_at(
        body, DelegatedSigner(impostor.sign, impostor.public_key_der), now=int(time.time())
    )
    with pytest.raises(IntegrityError):
        finish_exchange_at(
            answer.response, key, nonce, client_for(stack).pinned, now=int(time.time())
        )


def test_expired_delegation_is_refused(stack: dict[str, Any]) -> None:
    client = client_for(stack)
    client.clock = lambda: time.time() + 2 * 3600
    with pytest.raises(IntegrityError) as info:
        client.open_session(start_login(stack).token)
    assert info.value.reason == "delegation expired"


def test_tampered_manifest_is_refused(stack: dict[str, Any]) -> None:
    _, _, body = http("GET", stack["urls"]["api"] + "/models/manifest")
    header, payload, signature = json.loads(body)["manifest"].split(".")
    raw = json.loads(b64url_decode(payload))
    raw["models"][0]["sha256"] = "00" * 32
    forged = f"{header}.{b64url_encode(json.dumps(raw).encode())}.{signature}"
    with pytest.raises(IntegrityError):
        verify_manifest_at(forged, client_for(stack).pinned, now=int(time.time()))


def test_expired_manifest_is_refused(stack: dict[str, Any]) -> None:
    client = client_for(stack)
    client.clock = lambda: time.time() + 40 * 24 * 3600
    with pytest.raises(IntegrityError) as info:
        client.fetch_manifest()
    assert info.value.reason == "manifest expired"


def test_manifest_rollback_is_refused(stack: dict[str, Any], tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"manifest_version": 99}))
    with pytest.raises(IntegrityError) as info:
        client_for(stack, state).fetch_manifest()
    assert "rollback" in info.value.reason


def test_model_differing_from_manifest_is_refused_by_the_client(fetched) -> None:  # type: ignore[no-untyped-def]
    _, session, entry, ranges = fetched
    lying = ModelEntry(entry.name, entry.version, entry.role, "00" * 32, entry.size)
    with pytest.raises(IntegrityError):
        open_model(session, lying, ranges)  # wrong stream id: refused before any byte is trusted


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not-base64!",
        b64url_encode(b"\x04" + b"\x00" * 64),  # the point at (0, 0): off the curve
        b64url_encode(b"\x04" + bytes(range(64))),
        b64url_encode(b"\x04" + b"\xff" * 64),
        "A" * 100_000,  # oversized
    ],
)
def test_garbage_oversized_and_off_curve_keys_get_400(stack: dict[str, Any], key: str) -> None:
    _, _, hello = new_client_hello()
    body = json.dumps(hello | {"client_public_key": key}).encode()
    status, _, answer = http("POST", stack["urls"]["api"] + "/session", body=body,
                             headers={"Content-Type": "application/json"})  # fmt: skip
    assert status in (400, 413)
    assert error_body(answer)["code"] in ("bad_request", "payload_too_large")


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b"{", b"\xff\xfe", b'{"version": 1}'])
def test_malformed_session_requests_get_400(stack: dict[str, Any], body: bytes) -> None:
    status, _, answer = http("POST", stack["urls"]["api"] + "/session", body=body,
                             headers={"Content-Type": "application/json"})  # fmt: skip
    assert status == 400 and error_body(answer)["code"] == "bad_request"


@pytest.mark.parametrize(
    "path",
    ["/models/nosuch/1/segments", "/models/yunet/9999/segments",
     "/models/..%2F..%2Fetc/passwd/segments", "/models/YUNET/2023mar/segments",
     "/models/yunet/..%2Fmanifest/segments"],
)  # fmt: skip
def test_unknown_and_traversal_model_names_get_404(stack: dict[str, Any], path: str) -> None:
    session = models_session(client_for(stack), stack)
    status, _, body = http("GET", stack["urls"]["api"] + path + "?first=0&count=1",
                           headers={"X-SecureFace-Session": session.session_id})  # fmt: skip
    assert status == 404 and error_body(body)["code"] == "not_found"


@pytest.mark.parametrize("query", ["first=-1&count=1", "first=0&count=0", "first=0&count=5",
                                   "first=9999&count=1", "first=a&count=1"])  # fmt: skip
def test_out_of_range_segment_requests_get_400(stack: dict[str, Any], query: str) -> None:
    session = models_session(client_for(stack), stack)
    status, _, body = http("GET", stack["urls"]["api"] + "/models/yunet/2023mar/segments?" + query,
                           headers={"X-SecureFace-Session": session.session_id})  # fmt: skip
    assert status == 400 and error_body(body)["code"] == "bad_request"
