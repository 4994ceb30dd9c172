"""Byte encodings used at the edges: base64url without padding and canonical JSON.

Inside the package everything is ``bytes``; these helpers exist so that every edge encodes the
same way (the browser, the Python client and the server must agree byte for byte).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from secureface.errors import BadRequestError

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_pattern(size: int) -> re.Pattern[str]:
    """What :func:`b64url_encode` makes of exactly ``size`` bytes (identifiers and tokens are
    checked with it, so their length is written once, in bytes)."""
    return re.compile(rf"^[A-Za-z0-9_-]{{{(4 * size + 2) // 3}}}$")


def b64url_encode(data: bytes) -> str:
    """Encode ``data`` as base64url without padding (RFC 4648 §5, as in JOSE)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, field: str = "value", max_len: int = 1 << 24) -> bytes:
    """Decode unpadded base64url strictly.

    Raises:
        BadRequestError: ``text`` is not a string, too long, has characters outside the
            base64url alphabet, padding, or an impossible length.
    """
    if not isinstance(text, str) or len(text) > max_len or not _B64URL.fullmatch(text):
        raise BadRequestError(f"{field} must be unpadded base64url")
    if len(text) % 4 == 1:
        raise BadRequestError(f"{field} has an invalid base64url length")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadRequestError(f"{field} must be unpadded base64url") from exc


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` deterministically: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
