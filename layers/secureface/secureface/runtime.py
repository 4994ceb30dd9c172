"""Composition root: adapters built from :class:`~secureface.settings.Settings`, created on
first use and reused across warm invocations. :func:`reset` clears them (tests)."""

from __future__ import annotations

import functools

from secureface.adapters.aws import KmsSigner, S3ObjectStore, reset_clients
from secureface.settings import Settings


@functools.cache
def settings() -> Settings:
    """Settings read once from the environment."""
    return Settings.from_env()


@functools.cache
def model_store() -> S3ObjectStore:
    """The model bucket."""
    s = settings()
    return S3ObjectStore(s.model_bucket, s.data_key_id)


@functools.cache
def signer() -> KmsSigner:
    """The KMS signing key (server identity, manifest)."""
    return KmsSigner(settings().signing_key_id)


def reset() -> None:
    """Forget every cached adapter and client."""
    for getter in (settings, model_store, signer):
        getter.cache_clear()
    reset_clients()
