"""For relying parties written in Python: start a transaction, redeem its result, verify it.

::

    rp = RelyingPartyClient("https://api.secureface.example", "demo-bank", client_secret)
    started = rp.start(subject="alice", nonce=nonce, return_url=CALLBACK, state=state)
    # redirect the person to started.hosted_url; they come back to CALLBACK with
    # ?transaction_id=…&state=… (check state against the login's cookie first)
    result = rp.redeem_and_verify(transaction_id, nonce=nonce, subject="alice")
    # result.verified is True, or ResultRefused / IntegrityError was raised

Only the standard library and this package's crypto; any JWT library that takes a JWKS does
the same (docs/INTEGRATION.md shows PyJWT).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from secureface.client import ApiError, checked_url, http_request
from secureface.errors import IntegrityError
from secureface.transactions.result import Result, verify_result

#: How long a fetched JWKS is reused; an unknown ``kid`` refetches it at once (rotation).
JWKS_CACHE_S = 300


@dataclass(frozen=True)
class StartedTransaction:
    """What ``POST /v1/transactions`` answers; ``client_token`` is a secret: never log it."""

    transaction_id: str
    client_token: str
    hosted_url: str
    expires_at: int


class RelyingPartyClient:
    """A relying party's backend talking to SecureFace with its client credentials.

    ``issuer`` is what result tokens must name (the API's base URL by default).
    """

    def __init__(
        self,
        api_url: str,
        client_id: str,
        client_secret: str,
        *,
        issuer: str = "",
        timeout_s: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_url = checked_url(api_url)
        self.client_id = client_id
        self.issuer = issuer or self.api_url
        self.timeout_s = timeout_s
        self.clock = clock
        credentials = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
        self._authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
        self._jwks: dict[str, Any] = {}
        self._jwks_at = -float("inf")
        self._lock = threading.Lock()

    def start(
        self,
        *,
        subject: str,
        nonce: str,
        return_url: str,
        state: str,
        locale: str = "",
        purpose: str = "sign_in",
    ) -> StartedTransaction:
        """Start a transaction for ``subject`` (raises :class:`ApiError` when refused)."""
        body = {
            "subject": subject, "nonce": nonce, "return_url": return_url, "state": state,
            "locale": locale, "purpose": purpose,
        }  # fmt: skip
        raw = self._call("POST", "/v1/transactions", body)
        return StartedTransaction(
            str(raw["transaction_id"]), str(raw["client_token"]), str(raw["hosted_url"]),
            int(raw["expires_at"]),
        )  # fmt: skip

    def redeem(self, transaction_id: str) -> str:
        """The result token, once (a second call raises :class:`ApiError` 410 ``gone``; no
        decision yet: 409 ``pending``)."""
        path = f"/v1/transactions/{quote(transaction_id, safe='')}"
        return str(self._call("GET", path)["result"])

    def jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        """The issuer's JWKS, cached for :data:`JWKS_CACHE_S`."""
        with self._lock:
            if refresh or self.clock() - self._jwks_at >= JWKS_CACHE_S:
                raw = http_request(
                    "GET", f"{self.api_url}/.well-known/jwks.json", None, {}, self.timeout_s
                )
                self._jwks, self._jwks_at = dict(json.loads(raw)), self.clock()
            return self._jwks

    def verify(
        self,
        token: str,
        *,
        nonce: str,
        subject: str,
        accept: tuple[str, ...] = ("verified",),
    ) -> Result:
        """:func:`~secureface.transactions.result.verify_result` for this client as audience;
        an unknown ``kid`` refetches the JWKS once (key rotation)."""

        def check(keys: dict[str, Any]) -> Result:
            return verify_result(
                token, keys=keys, issuer=self.issuer, audience=self.client_id, nonce=nonce,
                subject=subject, now=int(self.clock()), accept=accept,
            )  # fmt: skip

        try:
            return check(self.jwks())
        except IntegrityError as exc:
            if exc.reason != "result kid is not in the JWKS":
                raise
        return check(self.jwks(refresh=True))

    def redeem_and_verify(self, transaction_id: str, *, nonce: str, subject: str) -> Result:
        """Redeem and verify; returns only a ``verified`` result for this login."""
        return self.verify(self.redeem(transaction_id), nonce=nonce, subject=subject)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": self._authorization}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        raw = http_request(method, self.api_url + path, data, headers, self.timeout_s)
        return dict(json.loads(raw))


__all__ = ["ApiError", "RelyingPartyClient", "StartedTransaction"]
