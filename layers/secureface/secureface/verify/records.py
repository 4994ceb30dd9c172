"""What the verify side stores, and the ports to store it.

* **templates** — one per subject: the enrolled embedding, envelope-encrypted and bound to the
  subject id, version and model; re-enrollment increments the version (the old embedding is not
  kept: data minimisation), erasure deletes it.
* **attempts** — failures per subject and per client, and locks (lockout).
* **audit** — one record per attempt: who, when, decision, reason, model versions, latency;
  never images, embeddings or scores of the frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from secureface.crypto.envelope import EnvelopeCipher, Sealed
from secureface.errors import IntegrityError
from secureface.ports import AuditLog as AuditLog  # re-exported: verify's port too

EMBEDDING_DIM = 128


@dataclass(frozen=True)
class TemplateRecord:
    """A stored, encrypted template."""

    subject_id: str
    version: int
    model: str
    enrolled_at: int
    sealed: Sealed


class TemplateStore(Protocol):
    def next_version(self, subject_id: str) -> int:
        """The version the next enrollment of ``subject_id`` gets (1 for a new subject)."""

    def put(self, record: TemplateRecord) -> None:
        """Store ``record`` as the subject's current template (replacing an older version)."""

    def get(self, subject_id: str) -> TemplateRecord | None:
        """The current template, if enrolled."""

    def delete(self, subject_id: str) -> bool:
        """Erase the subject's template; whether one existed."""


class AttemptStore(Protocol):
    def reserve(self, key: str, attempt_id: str, now: int, window_s: int, limit: int) -> bool:
        """Atomically add ``attempt_id`` to ``key``'s attempts of the last ``window_s`` if
        fewer than ``limit`` are there; whether it was added."""

    def release(self, key: str, attempt_id: str) -> None:
        """Remove ``attempt_id`` from ``key``'s attempts (it ended verified)."""

    def count(self, key: str, now: int, window_s: int) -> int:
        """``key``'s attempts (failures and attempts in flight) in the last ``window_s``."""

    def lock(self, key: str, until: int) -> None:
        """Lock ``key`` until ``until``."""

    def locked_until(self, key: str, now: int) -> int | None:
        """When the lock on ``key`` ends, if it is locked at ``now``."""


def _template_aad(subject_id: str, version: int, model: str) -> bytes:
    return b"\x00".join(
        [b"secureface/v1/template", subject_id.encode(), str(version).encode(), model.encode()]
    )


def seal_template(
    envelope: EnvelopeCipher,
    subject_id: str,
    version: int,
    model: str,
    embedding: NDArray[np.float32],
    *,
    now: int,
) -> TemplateRecord:
    """Encrypt an embedding as a template record."""
    data = np.asarray(embedding, dtype="<f4").tobytes()
    sealed = envelope.seal_at(data, _template_aad(subject_id, version, model), now=now)
    return TemplateRecord(subject_id, version, model, now, sealed)


def open_template(envelope: EnvelopeCipher, record: TemplateRecord) -> NDArray[np.float32]:
    """Decrypt a template's embedding.

    Raises:
        IntegrityError: the record was altered or moved to another subject/version/model.
    """
    data = envelope.open(
        record.sealed, _template_aad(record.subject_id, record.version, record.model)
    )
    if len(data) != EMBEDDING_DIM * 4:
        raise IntegrityError(reason="template has the wrong size")
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
