"""Ports: the interfaces the pure core needs from the outside world.

The ones every function shares are here; the others live beside the records they speak (a port
and its record types change together). Every port, its adapter and its in-memory fake
(``tests/fakes``; ``tests/unit/test_ports.py`` keeps this list complete):

- ``ObjectStore`` (here): ``adapters.aws.S3ObjectStore``; fake ``MemoryStore``
- ``Signer`` (here): ``adapters.aws.KmsSigner``; fake ``LocalSigner``
- ``AuditLog`` (here): ``adapters.mongo.MongoAuditLog``; fake ``MemoryAudit``
- ``crypto.envelope.DataKeyProvider``: ``adapters.aws.KmsDataKeys``; fake ``PlainDataKeys``
- ``sessions.records.SessionStore``: ``adapters.mongo.MongoSessionStore``; fake ``MemorySessions``
- ``transactions.model.TransactionStore``: ``adapters.mongo_transactions``; fake
  ``MemoryTransactions``
- ``verify.records.TemplateStore``: ``adapters.mongo_verify``; fake ``MemoryTemplates``
- ``verify.records.AttemptStore``: ``adapters.mongo_verify``; fake ``MemoryAttempts``
- ``verify.memory.AcceptedStore``: ``adapters.mongo_verify``; fake ``MemoryAccepted``
- ``face.inference.InferenceModel``: ``adapters.onnx_runtime.OnnxModel``; no fake: the tests run
  the real published models in-process
- ``doctor.Deployment``: ``adapters.doctor_aws.AwsDeployment``; its fake is in test_doctor.py
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
