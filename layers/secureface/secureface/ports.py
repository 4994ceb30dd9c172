"""Ports: the interfaces the pure core needs from the outside world.

Adapters in :mod:`secureface.adapters` implement them with boto3 / pymongo; tests may use the
real local servers through those same adapters.
"""

from __future__ import annotations

from typing import Any, Protocol


class ObjectStore(Protocol):
    """A bucket of immutable-by-convention objects (S3 with SSE-KMS in production)."""

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or ``None`` if absent."""

    def metadata(self, key: str) -> dict[str, str] | None:
        """The object's user metadata, or ``None`` if absent."""

    def put(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        """Store ``data`` under ``key`` (encrypted at rest)."""


class Signer(Protocol):
    """An ECDSA P-256 / SHA-256 signing key whose private half never leaves its holder (KMS)."""

    def sign(self, message: bytes) -> bytes:
        """DER signature over ``message`` (hashed with SHA-256 by the signer)."""

    def public_key_der(self) -> bytes:
        """DER SubjectPublicKeyInfo of the public key."""


class AuditLog(Protocol):
    """Where every attempt, transaction, redemption, enrollment and erasure is recorded."""

    def record(self, entry: dict[str, Any], now: int) -> None:
        """Append one audit record (kept for the retention period)."""
