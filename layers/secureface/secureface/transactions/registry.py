"""The relying-party registry and client authentication (``client_secret_basic``, RFC 6749
§2.3.1).

The registry is one JSON document, kept in Secrets Manager in production (the local stack puts
it in moto)::

    {"relying_parties": [{"client_id": "demo-bank", "name": "Demo Bank",
      "secret_sha256": "<hex SHA-256 of the client secret>",
      "return_urls": ["https://bank.example/callback"],
      "alternative_url": "https://bank.example/other-ways"}]}

Only a digest of each secret is stored; a client secret is 32 random bytes (base64url), so a
plain SHA-256 is as good as a slow hash and costs nothing per request.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from secureface.errors import ClientAuthError, ConfigurationError
from secureface.transactions.model import CLIENT_ID_RE, RelyingParty, token_digest

#: Seconds an instance keeps the registry before reading it again (a rotation takes effect within).
REGISTRY_CACHE_S = 300


def parse_registry(text: str) -> dict[str, RelyingParty]:
    """The registry document → relying parties by client id.

    Raises:
        ConfigurationError: not the documented shape (a deployment bug, never a client's).
    """
    try:
        entries = json.loads(text)["relying_parties"]
        parties = [_party(entry) for entry in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(reason=f"relying-party registry is malformed: {exc}") from exc
    by_id = {p.client_id: p for p in parties}
    if len(by_id) != len(parties):
        raise ConfigurationError(reason="relying-party registry repeats a client_id")
    return by_id


def _party(entry: Mapping[str, Any]) -> RelyingParty:
    client_id, name = _text(entry["client_id"]), _text(entry["name"])
    digest = _text(entry["secret_sha256"]).lower()
    if not isinstance(entry["return_urls"], list):
        raise TypeError("return_urls must be a list")
    urls = tuple(_text(u) for u in entry["return_urls"])
    alternative = _text(entry.get("alternative_url", ""))
    if not CLIENT_ID_RE.fullmatch(client_id):
        raise ValueError(f"client_id {client_id!r} is not [a-z0-9-]{{2,63}}")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{client_id}: secret_sha256 is not 64 hex digits")
    linked = (*urls, alternative) if alternative else urls
    if not name or not urls or not all(_web_url(u) for u in linked):
        raise ValueError(f"{client_id}: needs a name and absolute http(s) URLs without fragments")
    return RelyingParty(client_id, name, digest, urls, alternative)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value


def _web_url(url: str) -> bool:
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
    )
    return secure and bool(parts.netloc) and not parts.fragment and "#" not in url


def authenticate(parties: Mapping[str, RelyingParty], authorization: str) -> RelyingParty:
    """The relying party named and proven by an ``Authorization: Basic`` header.

    The secret's digest is compared in constant time, and an unknown client id costs the same
    comparison, so timing tells nothing about which ids exist.

    Raises:
        ClientAuthError: no header, not Basic, malformed, unknown client or wrong secret.
    """
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise ClientAuthError(reason="no Basic credentials")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ClientAuthError(reason="malformed Basic credentials") from exc
    raw_id, sep, raw_secret = decoded.partition(":")
    if not sep:
        raise ClientAuthError(reason="malformed Basic credentials")
    client_id, secret = unquote(raw_id), unquote(raw_secret)  # RFC 6749 §2.3.1 form-encoding
    party = parties.get(client_id)
    expected = party.secret_sha256 if party else "0" * 64
    if not hmac.compare_digest(token_digest(secret), expected) or party is None:
        raise ClientAuthError(reason="unknown client or wrong secret")
    return party


def new_client_secret() -> tuple[str, str]:
    """A fresh client secret and the digest the registry stores."""
    secret = secrets.token_urlsafe(32)
    return secret, token_digest(secret)


class Registry:
    """The registry read through ``load`` (Secrets Manager), cached for :data:`REGISTRY_CACHE_S`."""

    def __init__(self, load: Callable[[], str], clock: Callable[[], float] = time.monotonic):
        self._load = load
        self._clock = clock
        self._lock = threading.Lock()
        self._parties: dict[str, RelyingParty] = {}
        self._read_at = -float("inf")

    def parties(self) -> dict[str, RelyingParty]:
        with self._lock:
            if self._clock() - self._read_at >= REGISTRY_CACHE_S:
                self._parties = parse_registry(self._load())
                self._read_at = self._clock()
            return self._parties

    def authenticate(self, authorization: str) -> RelyingParty:
        """See :func:`authenticate`."""
        return authenticate(self.parties(), authorization)

    def get(self, client_id: str) -> RelyingParty | None:
        return self.parties().get(client_id)
