"""Memory of accepted bursts: a burst that repeats an earlier accepted one is refused.

The light schedule already makes a recording useless in another session; this memory is the
second line, and the first one for the motion-only mode (no light). For every accepted burst the
server keeps, per subject, the fingerprints of its sampled frames (16 x 16 standardised grey
thumbnails of the aligned face, :func:`secureface.verify.analysis.fingerprint`): encrypted under
the data key and bound to the subject (never stored in clear, never logged), expiring after
:data:`MEMORY_TTL_S`, the newest :data:`MEMORY_PER_SUBJECT` kept.

A new burst is a replay when at least half of its sampled frames are near copies (fingerprint
distance under :data:`DUPLICATE_DISTANCE` standard deviations; a JPEG re-encode measures
0.016-0.10) of frames of one remembered burst. Two live captures of a person differ by far more
(pose, light, noise: docs/LIVENESS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from secureface.crypto.envelope import EnvelopeCipher, Sealed
from secureface.errors import IntegrityError
from secureface.verify.analysis import FINGERPRINT_SIDE, fingerprint_distance

MEMORY_TTL_S = 30 * 24 * 3600
MEMORY_PER_SUBJECT = 20
DUPLICATE_DISTANCE = 0.12
_SIZE = FINGERPRINT_SIDE * FINGERPRINT_SIDE


class AcceptedStore(Protocol):
    """Sealed fingerprints of accepted bursts, per subject (MongoDB in production)."""

    def recent(self, subject_id: str) -> list[Sealed]:
        """The subject's remembered bursts, newest first."""

    def remember(self, subject_id: str, sealed: Sealed, now: int, ttl_s: int, keep: int) -> None:
        """Add one burst; keep at most ``keep`` per subject, each for ``ttl_s``."""


def _aad(subject_id: str) -> bytes:
    return b"secureface/v1/accepted\x00" + subject_id.encode()


def seal_fingerprints(
    envelope: EnvelopeCipher, subject_id: str, prints: Sequence[bytes], *, now: int
) -> Sealed:
    """Encrypt one burst's fingerprints for ``subject_id``."""
    return envelope.seal_at(b"".join(prints), _aad(subject_id), now=now)


def open_fingerprints(envelope: EnvelopeCipher, subject_id: str, sealed: Sealed) -> list[bytes]:
    """Decrypt one remembered burst.

    Raises:
        IntegrityError: altered, or sealed for another subject.
    """
    data = envelope.open(sealed, _aad(subject_id))
    if len(data) % _SIZE:
        raise IntegrityError(reason="remembered fingerprints have the wrong size")
    return [data[i : i + _SIZE] for i in range(0, len(data), _SIZE)]


def is_replay(prints: Sequence[bytes], remembered: Sequence[Sequence[bytes]]) -> bool:
    """Whether at least half of ``prints`` nearly copy frames of one remembered burst."""
    for earlier in remembered:
        if not earlier:
            continue
        copies = sum(
            1
            for p in prints
            if min(fingerprint_distance(p, q) for q in earlier) < DUPLICATE_DISTANCE
        )
        if prints and copies * 2 >= len(prints):
            return True
    return False
