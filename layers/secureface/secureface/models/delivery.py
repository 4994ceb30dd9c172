"""Serving published models: the signed manifest, and per-session encrypted segment ranges
(the wire format, shared with the client: :mod:`secureface.models.segments`).

The server checks the model's SHA-256 against the signed manifest before sealing a byte, so a
model replaced in storage is refused here as well as by the client. The manifest itself must be
at least the deployed minimum version (``SECUREFACE_MIN_MANIFEST_VERSION``, from
``model_versions.json`` through the template): the floor is not read from the bucket, so an
archived manifest copied over ``manifest/current.jws`` is refused (503 ``model_unavailable``).
Only the roles a browser runs (:data:`~secureface.models.manifest.BROWSER_ROLES`) are served;
the server-only models answer 404 as if unpublished.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.stream import StreamSealer, segment_count
from secureface.errors import (
    IntegrityError,
    ModelUnavailableError,
    NotFoundError,
    StoreUnavailableError,
)
from secureface.models.layout import MANIFEST_KEY, model_key
from secureface.models.manifest import (
    BROWSER_ROLES,
    NAME_RE,
    VERSION_RE,
    Manifest,
    ModelEntry,
    verify_manifest_at,
)
from secureface.models.segments import SEGMENT_SIZE, checked_range, stream_id
from secureface.ports import ObjectStore

log = logging.getLogger(__name__)


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


class ModelDelivery:
    """Reads, checks and caches models; seals segment ranges for a session's model key.

    ``min_version`` is the deployed minimum manifest version: a stored manifest below it (or
    more than :data:`~secureface.models.manifest.MAX_VERSION_JUMP` above it) is refused.
    """

    def __init__(
        self,
        store: ObjectStore,
        public_key: Callable[[], ec.EllipticCurvePublicKey],
        *,
        min_version: int = 0,
    ) -> None:
        self._store = store
        self._public_key = public_key
        self._min_version = min_version
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def published_manifest(self) -> str:
        """The current signed manifest as published (:func:`current_manifest`)."""
        return current_manifest(self._store)

    def manifest_at(self, now: int) -> Manifest:
        """The current manifest, verified with the server's own key and the deployed minimum
        version (expired or rolled back counts as broken).

        Raises:
            ModelUnavailableError: the stored manifest does not verify, has expired, or is below
                the deployed minimum version.
        """
        token = self.published_manifest()
        try:
            return verify_manifest_at(
                token, self._public_key(), now=now, min_version=self._min_version
            )
        except IntegrityError as exc:
            floor = f"deployed minimum manifest version {self._min_version}"
            raise ModelUnavailableError(reason=f"stored manifest: {exc.reason} ({floor})") from exc

    def entry_at(self, name: str, version: str, now: int) -> ModelEntry:
        """The manifest entry for ``name``/``version``, if a browser runs its role.

        Raises:
            NotFoundError: malformed or unpublished name/version (path traversal included), or a
                model only the server runs.
        """
        if not NAME_RE.fullmatch(name) or not VERSION_RE.fullmatch(version):
            raise NotFoundError("Unknown model")
        entry = self.manifest_at(now).find(name, version)
        if entry is None or entry.role not in BROWSER_ROLES:
            raise NotFoundError("Unknown model")
        return entry

    def model_bytes(self, entry: ModelEntry) -> bytes:
        """The model's bytes, checked against the manifest, cached per instance by SHA-256.

        Raises:
            ModelUnavailableError: missing from storage, or bytes differing from the manifest.
        """
        with self._lock:
            cached = self._cache.get(entry.sha256)
        if cached is not None:
            return cached
        data = self._store.get(model_key(entry.name, entry.version))
        if data is None:
            raise ModelUnavailableError(reason=f"{entry.name}/{entry.version} missing in storage")
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise ModelUnavailableError(
                reason=f"{entry.name}/{entry.version} differs from the manifest"
            )
        with self._lock:
            self._cache[entry.sha256] = data
        return data

    def segments_at(
        self,
        name: str,
        version: str,
        session_id: str,
        model_key_bytes: bytes,
        first: int | None,
        count: int | None,
        now: int,
    ) -> bytes:
        """Header and sealed segments ``first .. first + count - 1`` of ``name``/``version`` for
        a session (absent: from the start, as many as one response holds).

        Raises:
            NotFoundError, BadRequestError, ModelUnavailableError: see the helpers.
        """
        entry = self.entry_at(name, version, now)
        first, count = checked_range(first, count, segment_count(entry.size, SEGMENT_SIZE))
        sealer = StreamSealer(
            model_key_bytes, stream_id(session_id, entry), self.model_bytes(entry), SEGMENT_SIZE
        )
        return bytes(sealer.seal_range(first, count, with_header=True))
