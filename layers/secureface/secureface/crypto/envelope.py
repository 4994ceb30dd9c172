"""Envelope encryption with a cached data key (the AWS Encryption SDK's caching pattern).

A data key comes from KMS (``GenerateDataKey``) and is reused for up to ``max_age_s`` seconds
and ``max_uses`` messages, so storing a session costs no KMS call; the KMS-encrypted copy of the
data key travels with every ciphertext, and any instance can recover it (``Decrypt``, cached).
Each message is AES-256-GCM with a random 96-bit nonce and caller-chosen associated data that
binds it to its record (a session id, a subject id), so ciphertexts cannot be swapped between
records.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secureface.errors import IntegrityError


class DataKeyProvider(Protocol):
    """Where data keys come from (KMS in production)."""

    def generate(self) -> tuple[bytes, bytes]:
        """A fresh 256-bit data key: ``(plaintext, encrypted_blob)``."""

    def decrypt(self, blob: bytes) -> bytes:
        """The plaintext of an encrypted data key."""


@dataclass(frozen=True)
class Sealed:
    """One envelope-encrypted message."""

    encrypted_key: bytes
    nonce: bytes
    ciphertext: bytes


class EnvelopeCipher:
    """Seal and open messages under cached data keys."""

    def __init__(
        self, provider: DataKeyProvider, *, max_age_s: int = 3600, max_uses: int = 100_000
    ) -> None:
        self._provider = provider
        self._max_age_s = max_age_s
        self._max_uses = max_uses
        self._lock = threading.Lock()
        self._current: tuple[bytes, bytes, int] | None = None  # plaintext, blob, created_at
        self._uses = 0
        self._opened: dict[bytes, bytes] = {}

    def seal_at(self, plaintext: bytes, aad: bytes, *, now: int) -> Sealed:
        """Encrypt ``plaintext`` bound to ``aad``."""
        key, blob = self._key_at(now)
        nonce = os.urandom(12)
        return Sealed(blob, nonce, AESGCM(key).encrypt(nonce, plaintext, aad))

    def open(self, sealed: Sealed, aad: bytes) -> bytes:
        """Decrypt ``sealed``.

        Raises:
            IntegrityError: wrong ``aad``, tampered ciphertext, or an undecryptable data key.
        """
        digest = hashlib.sha256(sealed.encrypted_key).digest()
        with self._lock:
            key = self._opened.get(digest)
        if key is None:
            key = self._provider.decrypt(sealed.encrypted_key)
            with self._lock:
                self._opened[digest] = key
        try:
            return AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, aad)
        except (InvalidTag, ValueError) as exc:
            raise IntegrityError(reason="envelope does not authenticate") from exc

    def _key_at(self, now: int) -> tuple[bytes, bytes]:
        with self._lock:
            current = self._current
            if (
                current is None
                or now - current[2] >= self._max_age_s
                or self._uses >= self._max_uses
            ):
                plaintext, blob = self._provider.generate()
                current = self._current = (plaintext, blob, now)
                self._uses = 0
                self._opened[hashlib.sha256(blob).digest()] = plaintext
            self._uses += 1
            return current[0], current[1]
