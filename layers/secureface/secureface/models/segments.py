"""The model segments' wire format, one module for the model function and the clients.

``GET /models/{name}/{version}/segments?first=I&count=N`` with header
``X-SecureFace-Session: <session id>`` answers ``application/octet-stream``::

    stream header (32 bytes) ‖ sealed segment I ‖ … ‖ sealed segment I+N-1

Segments are 1 MiB of plaintext + 16-byte tag (:mod:`secureface.crypto.stream`); at most
:data:`MAX_SEGMENTS_PER_RESPONSE` per response keeps each answer, base64-encoded inside the
Lambda response, under Lambda's 6 MB cap. Clients fetch ranges in parallel. Each stream is
bound to one session and one exact model (:func:`stream_id`).
"""

from __future__ import annotations

from secureface.crypto.stream import DEFAULT_SEGMENT_SIZE
from secureface.errors import BadRequestError
from secureface.models.manifest import ModelEntry

SEGMENT_SIZE = DEFAULT_SEGMENT_SIZE
MAX_SEGMENTS_PER_RESPONSE = 4
#: The request header naming the session a range is sealed for.
SESSION_HEADER = "x-secureface-session"


def stream_id(session_id: str, entry: ModelEntry) -> bytes:
    """What binds a stream to one session and one exact model."""
    parts = (session_id, entry.name, entry.version, entry.sha256)
    return b"\x00".join(p.encode() for p in parts)


def range_path(entry: ModelEntry, first: int, count: int) -> str:
    """The request path (and query) of segments ``first .. first + count - 1``."""
    return f"/models/{entry.name}/{entry.version}/segments?first={first}&count={count}"


def checked_range(first: int | None, count: int | None, total: int) -> tuple[int, int]:
    """``first`` and ``count`` (absent: the stream's start, and as many as one response holds),
    checked against a stream of ``total`` segments.

    Raises:
        BadRequestError: out of the stream, or more than the per-response cap.
    """
    first = 0 if first is None else first
    count = min(MAX_SEGMENTS_PER_RESPONSE, total) if count is None else count
    if not 0 < count <= MAX_SEGMENTS_PER_RESPONSE:
        raise BadRequestError(f"count must be between 1 and {MAX_SEGMENTS_PER_RESPONSE}")
    if not first >= 0 or first + count > total:
        raise BadRequestError(f"segments {first}..{first + count - 1} are outside 0..{total - 1}")
    return first, count
