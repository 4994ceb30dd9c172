"""The public HTTP API, in one table.

``template.yaml`` declares the same routes (a test keeps them equal); the ``$default`` route sends
everything else to the key-exchange function, which answers 404 or 405 from this table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """One route: method, path template (API Gateway syntax) and the function serving it."""

    method: str
    path: str
    function: str

    def matches(self, path: str) -> bool:
        """Whether ``path`` fits this route's template (``{param}`` is one path segment)."""
        pattern = re.sub(r"\\\{[A-Za-z_]+\\\}", "[^/]+", re.escape(self.path))
        return re.fullmatch(pattern, path) is not None


ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/transactions", "transactions"),
    Route("GET", "/v1/transactions/{transaction_id}", "transactions"),
    Route("POST", "/v1/flow", "transactions"),
    Route("GET", "/.well-known/jwks.json", "transactions"),
    Route("POST", "/session", "keyexchange"),
    Route("GET", "/models/manifest", "model"),
    Route("GET", "/models/{name}/{version}/segments", "model"),
    Route("POST", "/verify", "verify"),
    Route("POST", "/admin/enrollments", "verify"),
    Route("DELETE", "/admin/enrollments/{subject}", "verify"),
)


def allowed_methods(path: str) -> tuple[str, ...]:
    """Methods the API serves at ``path`` (empty: no such route)."""
    return tuple(sorted({r.method for r in ROUTES if r.matches(path)}))
