"""Segmented AEAD: round trip, overhead, and every stream attack refused."""

from __future__ import annotations

import os

import pytest

from secureface.crypto.stream import (
    HEADER_LEN,
    MIN_SEGMENT_SIZE,
    TAG_LEN,
    StreamHeader,
    StreamOpener,
    StreamSealer,
)
from secureface.errors import IntegrityError

KEY = bytes(range(32))
SID = b"session-a\x00yunet\x00v1\x00" + b"ab" * 32
SEG = MIN_SEGMENT_SIZE


def seal_all(data: bytes, key: bytes = KEY, sid: bytes = SID) -> tuple[bytes, list[bytes]]:
    sealer = StreamSealer(key, sid, data, SEG)
    return sealer.header_bytes, [sealer.seal(i) for i in range(sealer.header.segment_count)]


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG + 7])
def test_round_trip(size: int) -> None:
    data = os.urandom(size)
    header, segments = seal_all(data)
    assert StreamOpener(KEY, SID, header).open_all(b"".join(segments)) == data


def test_overhead_is_one_tag_per_segment_plus_header() -> None:
    data = os.urandom(10 * SEG + 5)
    header, segments = seal_all(data)
    assert len(header) == HEADER_LEN
    assert sum(map(len, segments)) == len(data) + 11 * TAG_LEN


def test_stream_is_deterministic_per_key_and_model() -> None:
    data = os.urandom(2 * SEG)
    assert seal_all(data) == seal_all(data)
    assert seal_all(data)[1] != seal_all(data, sid=SID + b"x")[1]


def test_flipped_bit_in_any_segment_is_refused() -> None:
    data = os.urandom(3 * SEG)
    header, segments = seal_all(data)
    for index in range(3):
        for position in (0, len(segments[index]) // 2, len(segments[index]) - 1):
            broken = list(segments)
            chunk = bytearray(broken[index])
            chunk[position] ^= 0x01
            broken[index] = bytes(chunk)
            with pytest.raises(IntegrityError, match="Integrity"):
                StreamOpener(KEY, SID, header).open_all(b"".join(broken))


def test_dropped_last_segment_is_refused() -> None:
    header, segments = seal_all(os.urandom(3 * SEG))
    with pytest.raises(IntegrityError) as info:
        StreamOpener(KEY, SID, header).open_all(b"".join(segments[:-1]))
    assert "wrong position or length" in info.value.reason


def test_truncation_with_forged_shorter_header_is_refused() -> None:
    data = os.urandom(3 * SEG)
    header, segments = seal_all(data)
    h = StreamHeader.decode(header)
    forged = StreamHeader(h.segment_size, 2 * SEG, 2, h.nonce_prefix).encode()
    opener = StreamOpener(KEY, SID, forged)
    with pytest.raises(IntegrityError):
        opener.open(1, segments[1])  # not sealed as last, and header is bound as AAD


def test_reordered_segments_are_refused() -> None:
    header, segments = seal_all(os.urandom(3 * SEG))
    swapped = [segments[1], segments[0], segments[2]]
    with pytest.raises(IntegrityError, match="Integrity"):
        StreamOpener(KEY, SID, header).open_all(b"".join(swapped))


def test_segment_spliced_from_another_session_is_refused() -> None:
    data = os.urandom(2 * SEG)
    header, segments = seal_all(data)
    _, other = seal_all(data, key=os.urandom(32))
    with pytest.raises(IntegrityError):
        StreamOpener(KEY, SID, header).open_all(segments[0] + other[1])


def test_header_of_another_stream_is_refused() -> None:
    data = os.urandom(SEG)
    header, _ = seal_all(data, sid=SID + b"other")
    with pytest.raises(IntegrityError, match="Integrity"):
        StreamOpener(KEY, SID, header)


def test_trailing_bytes_are_refused() -> None:
    header, segments = seal_all(os.urandom(SEG))
    with pytest.raises(IntegrityError):
        StreamOpener(KEY, SID, header).open_all(b"".join(segments) + b"\x00")


@pytest.mark.parametrize(
    "mutate",
    [lambda h: h[:-1], lambda h: b"XXXX" + h[4:], lambda h: h[:-1] + b"\x01",
     lambda h: h[:4] + (1).to_bytes(4, "big") + h[8:]],
)  # fmt: skip
def test_malformed_headers_are_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    header, _ = seal_all(os.urandom(SEG))
    with pytest.raises(IntegrityError):
        StreamHeader.decode(mutate(header))
