"""The decrypted verify payload: the burst of frames with their capture times, and the
person's consent.

Plaintext (inside the sealed message of :mod:`secureface.sessions.sealed`)::

    u32 meta_length (big-endian) ‖ meta (UTF-8 JSON) ‖ frame 0 ‖ frame 1 ‖ …

    meta = {"frames": [{"size": 14213, "t": 83}, {"size": 14020, "t": 166}],
            "consent": {"notice": "2026-12.1", "locale": "en", "accepted_at": 1764316800123,
                        "transaction_id": "…"}}

Who is being verified is not in the payload: the subject comes from the relying party's
transaction, never from the browser. ``consent`` records which notice the person agreed to, in
which language and when (ms since the epoch), for which transaction; it is kept with the audit
record of the attempt.

``t`` is the frame's capture time in ms relative to time zero of the challenge (when the page
painted the first colour of the light schedule; :mod:`secureface.sessions.challenge`). Frames
are baseline or progressive JPEG (what a browser canvas encodes) in capture order. The limits
bound the work per request (the whole burst is at most 1 MiB; each frame at most 640 pixels on
its longer side is checked when it is decoded, before any model runs).
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
#: Most frames in one burst (12 a second over an 8 s capture).
MAX_FRAMES = 96
#: Largest JPEG frame, bytes.
MAX_FRAME_BYTES = 64 * 1024
#: Largest plaintext payload, bytes.
MAX_PAYLOAD = 1024 * 1024
#: Longest side of a verify frame, pixels.
MAX_FRAME_SIDE = 640
#: Enrollment images may be larger (uploaded by an operator, not captured by the page).
MAX_ENROLL_BYTES = 1536 * 1024
#: Largest enrollment request (images as base64url inside JSON stay under Lambda's 6 MB).
MAX_ENROLL_PAYLOAD = 4 * 1024 * 1024
#: Frame times must lie within this many ms of the capture window ``[0, capture_ms]``.
TIME_SLACK_MS = 2000
JPEG_MAGIC = b"\xff\xd8\xff"


@dataclass(frozen=True)
class Consent:
    """The consent the person gave on the hosted page."""

    notice: str
    locale: str
    accepted_at_ms: int
    transaction_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "notice": self.notice,
            "locale": self.locale,
            "accepted_at": self.accepted_at_ms,
            "transaction_id": self.transaction_id,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Consent:
        """Raises BadRequestError unless ``raw`` is a consent of a known notice and locale."""
        from secureface.transactions.model import CONSENT_NOTICES, LOCALES

        fields = {"notice", "locale", "accepted_at", "transaction_id"}
        if not isinstance(raw, dict) or set(raw) != fields:
            raise BadRequestError("consent must name notice, locale, accepted_at, transaction_id")
        try:
            accepted = _integer(raw["accepted_at"])
        except TypeError as exc:
            raise BadRequestError("consent.accepted_at must be an integer (ms)") from exc
        if raw["notice"] not in CONSENT_NOTICES:
            raise BadRequestError("consent.notice is not a notice this service shows")
        if raw["locale"] not in LOCALES or not isinstance(raw["transaction_id"], str):
            raise BadRequestError("consent.locale or consent.transaction_id is malformed")
        return cls(raw["notice"], raw["locale"], accepted, raw["transaction_id"])


@dataclass(frozen=True)
class VerifyPayload:
    """A parsed verify request.

    Attributes:
        frames: JPEG bytes, in capture order.
        times_ms: each frame's capture time relative to the challenge's time zero.
        consent: what the person agreed to before the camera started.
    """

    frames: tuple[bytes, ...]
    times_ms: tuple[int, ...]
    consent: Consent


def check_subject_id(value: Any) -> str:
    """A subject id: a plain string of 1-64 safe characters (no operators, no paths).

    Raises:
        BadRequestError: anything else, e.g. ``{"$ne": null}``.
    """
    if not isinstance(value, str) or not SUBJECT_RE.fullmatch(value):
        raise BadRequestError("subject_id must be 1-64 characters [A-Za-z0-9._@-]")
    return value


def encode_payload(frames: list[bytes], times_ms: list[int], consent: Consent) -> bytes:
    """Build the plaintext (used by clients and tests)."""
    meta = {
        "frames": [{"size": len(f), "t": t} for f, t in zip(frames, times_ms, strict=True)],
        "consent": consent.to_json(),
    }
    raw = json.dumps(meta, separators=(",", ":")).encode()
    return struct.pack(">I", len(raw)) + raw + b"".join(frames)


def parse_payload(data: bytes, *, capture_ms: int) -> VerifyPayload:
    """Parse and bound a decrypted payload.

    Args:
        data: the plaintext.
        capture_ms: length of this session's capture (frame times are bounded by it).

    Raises:
        PayloadTooLargeError: over the total, per-frame or frame-count limit.
        BadRequestError: malformed container (any key besides frames and consent, such as a
            subject id, included), a consent of an unknown notice or locale, a frame that is
            not JPEG, sizes not adding up, times that are not integers inside the capture
            window.
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
        if not isinstance(meta, dict) or set(meta) != {"frames", "consent"}:
            raise ValueError("meta must hold exactly frames and consent")
        entries = meta["frames"]
        if not isinstance(entries, list):
            raise TypeError("frames is not a list")
        sizes = [_integer(e["size"]) for e in entries]
        times = [_integer(e["t"]) for e in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequestError("Verify payload metadata is malformed") from exc
    consent = Consent.from_json(meta["consent"])
    if not sizes:
        raise BadRequestError("The burst holds no frames")
    if len(sizes) > MAX_FRAMES:
        raise PayloadTooLargeError(f"At most {MAX_FRAMES} frames per burst")
    if any(not 0 < s <= MAX_FRAME_BYTES for s in sizes):
        raise PayloadTooLargeError(f"Each frame must be 1..{MAX_FRAME_BYTES} bytes")
    if any(not -TIME_SLACK_MS <= t <= capture_ms + TIME_SLACK_MS for t in times):
        raise BadRequestError("Frame times lie outside the capture")
    if 4 + meta_len + sum(sizes) != len(data):
        raise BadRequestError("Frame sizes do not match the payload")
    frames, offset = [], 4 + meta_len
    for size in sizes:
        frame = data[offset : offset + size]
        if not frame.startswith(JPEG_MAGIC):
            raise BadRequestError("Frames must be JPEG images")
        frames.append(frame)
        offset += size
    return VerifyPayload(frames=tuple(frames), times_ms=tuple(times), consent=consent)


def _integer(value: Any) -> int:
    """An int (not a bool, not a float): JSON numbers only.

    Raises:
        TypeError: anything else.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return int(value)
