"""Serving published models to clients."""

from __future__ import annotations

from secureface.errors import StoreUnavailableError
from secureface.ports import ObjectStore
from secureface.settings import MANIFEST_KEY


def current_manifest(store: ObjectStore) -> str:
    """The current signed manifest (compact JWS) as published.

    The server passes it through unchanged: clients verify it against their pinned key.

    Raises:
        StoreUnavailableError: nothing has been published yet, or the store failed.
    """
    token = store.get(MANIFEST_KEY)
    if token is None:
        raise StoreUnavailableError(reason="no manifest has been published")
    try:
        return token.decode("ascii")
    except UnicodeDecodeError as exc:
        raise StoreUnavailableError(reason="stored manifest is not ASCII") from exc
