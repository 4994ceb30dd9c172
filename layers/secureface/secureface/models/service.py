"""The model function's use cases: the published manifest, a session's segment ranges, and the
scheduled check of the manifest's expiry (:mod:`secureface.models.delivery` does the reading,
checking and sealing; :mod:`secureface.models.segments` is the wire format)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from secureface.models.delivery import ModelDelivery
from secureface.sessions.service import SessionVault


@dataclass(frozen=True)
class ModelService:
    """Serves models to sessions."""

    delivery: ModelDelivery
    #: The stored sessions, built on first use: the manifest and the hourly check need neither
    #: MongoDB nor its secret.
    sessions: Callable[[], SessionVault]

    def manifest(self) -> str:
        """``GET /models/manifest``: the signed manifest (compact JWS) as published; clients
        verify it against their pinned key."""
        return self.delivery.published_manifest()

    def segments_at(
        self,
        name: str,
        version: str,
        session_id: str,
        first: int | None,
        count: int | None,
        *,
        now: int,
    ) -> bytes:
        """``GET /models/{name}/{version}/segments``: the stream header and sealed segments
        ``first .. first + count - 1`` of the model, for an unexpired session.

        Raises:
            SessionError: malformed, unknown or expired session.
            NotFoundError: no such model, or one only the server runs.
            BadRequestError: a range outside the stream or over the per-response cap.
            ModelUnavailableError: the manifest or the model's bytes do not check out.
        """
        record, keys = self.sessions().load_at(session_id, now=now)
        return self.delivery.segments_at(
            name, version, record.session_id, keys.model, first, count, now
        )

    def manifest_expires_at(self, now: int) -> int:
        """When the current manifest expires (the hourly check's metric).

        Raises:
            ModelUnavailableError: the stored manifest does not verify (already expired
                included).
        """
        return self.delivery.manifest_at(now).expires_at
