"""The decrypted verify payload: subject id, one frame per challenge step, capture times.

Plaintext (inside the sealed message of :mod:`secureface.sessions.sealed`)::

    u32 meta_length (big-endian) ‖ meta (UTF-8 JSON) ‖ frame 0 ‖ frame 1 ‖ …

    meta = {"subject_id": "alice", "frames": [{"size": 48213, "captured_at": 1764316800123}, …]}

Frames are JPEG, PNG or WebP bytes, in challenge order. Limits keep a request inside Lambda's
6 MB payload (base64 inside JSON) and bound the work per request.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from typing import Any

from secureface.errors import BadRequestError, PayloadTooLargeError

SUBJECT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MAX_META = 8 * 1024
MAX_FRAMES = 8
MAX_FRAME_BYTES = 1536 * 1024
MAX_PAYLOAD = 4 * 1024 * 1024


@dataclass(frozen=True)
class VerifyPayload:
    """A parsed verify request."""

    subject_id: str
    frames: tuple[bytes, ...]
    captured_at: tuple[int, ...]


def check_subject_id(value: Any) -> str:
    """A subject id: a plain string of 1-64 safe characters (no operators, no paths).

    Raises:
        BadRequestError: anything else, e.g. ``{"$ne": null}``.
    """
    if not isinstance(value, str) or not SUBJECT_RE.match(value):
        raise BadRequestError("subject_id must be 1-64 characters [A-Za-z0-9._@-]")
    return value


def encode_payload(subject_id: str, frames: list[bytes], captured_at: list[int]) -> bytes:
    """Build the plaintext (used by clients and tests)."""
    meta = {
        "subject_id": subject_id,
        "frames": [
            {"size": len(f), "captured_at": t} for f, t in zip(frames, captured_at, strict=True)
        ],
    }
    raw = json.dumps(meta, separators=(",", ":")).encode()
    return struct.pack(">I", len(raw)) + raw + b"".join(frames)


def parse_payload(data: bytes, *, expected_frames: int) -> VerifyPayload:
    """Parse and bound a decrypted payload.

    Raises:
        PayloadTooLargeError: over the total or per-frame limit.
        BadRequestError: malformed container, bad subject id, frame count not matching the
            challenge, sizes not adding up.
    """
    if len(data) > MAX_PAYLOAD:
        raise PayloadTooLargeError(f"Verify payload is over {MAX_PAYLOAD} bytes")
    if len(data) < 4:
        raise BadRequestError("Verify payload is truncated")
    (meta_len,) = struct.unpack(">I", data[:4])
    if meta_len > MAX_META or 4 + meta_len > len(data):
        raise BadRequestError("Verify payload metadata is malformed")
    try:
        meta = json.loads(data[4 : 4 + meta_len])
        entries = meta["frames"]
        sizes = [int(e["size"]) for e in entries]
        times = [int(e["captured_at"]) for e in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequestError("Verify payload metadata is malformed") from exc
    subject = check_subject_id(meta.get("subject_id"))
    if not 1 <= len(sizes) <= MAX_FRAMES or len(sizes) != expected_frames:
        raise BadRequestError(f"Expected {expected_frames} frames, one per challenge step")
    if any(not 0 < s <= MAX_FRAME_BYTES for s in sizes):
        raise PayloadTooLargeError(f"Each frame must be 1..{MAX_FRAME_BYTES} bytes")
    if 4 + meta_len + sum(sizes) != len(data):
        raise BadRequestError("Frame sizes do not match the payload")
    frames, offset = [], 4 + meta_len
    for size in sizes:
        frames.append(data[offset : offset + size])
        offset += size
    return VerifyPayload(subject_id=subject, frames=tuple(frames), captured_at=tuple(times))
