"""Serving published models: the signed manifest, and per-session encrypted segment ranges.

``GET /models/{name}/{version}/segments?first=I&count=N`` with header
``X-SecureFace-Session: <session id>`` answers ``application/octet-stream``::

    stream header (32 bytes) ‖ sealed segment I ‖ … ‖ sealed segment I+N-1

Segments are 1 MiB of plaintext + 16-byte tag (:mod:`secureface.crypto.stream`); at most
:data:`MAX_SEGMENTS_PER_RESPONSE` per response keeps each answer, base64-encoded inside the
Lambda response, under Lambda's 6 MB cap. Clients fetch ranges in parallel.

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
from collections.abc import Callable, Mapping

from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.stream import DEFAULT_SEGMENT_SIZE, StreamSealer, segment_count
from secureface.errors import (
    BadRequestError,
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
from secureface.ports import ObjectStore

log = logging.getLogger(__name__)
SEGMENT_SIZE = DEFAULT_SEGMENT_SIZE
MAX_SEGMENTS_PER_RESPONSE = 4
SESSION_HEADER = "x-secureface-session"


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


def stream_id(session_id: str, entry: ModelEntry) -> bytes:
    """What binds a stream to one session and one exact model."""
    parts = (session_id, entry.name, entry.version, entry.sha256)
    return b"\x00".join(p.encode() for p in parts)


def parse_range(query: Mapping[str, str], total: int) -> tuple[int, int]:
    """``first`` and ``count`` from the query string, checked against the stream.

    Raises:
        BadRequestError: not integers, out of the stream, or more than the per-response cap.
    """
    try:
        first = int(query.get("first", "0"))
        count = int(query.get("count", str(min(MAX_SEGMENTS_PER_RESPONSE, total))))
    except ValueError as exc:
        raise BadRequestError("first and count must be integers") from exc
    if not 0 < count <= MAX_SEGMENTS_PER_RESPONSE:
        raise BadRequestError(f"count must be between 1 and {MAX_SEGMENTS_PER_RESPONSE}")
    if not first >= 0 or first + count > total:
        raise BadRequestError(f"segments {first}..{first + count - 1} are outside 0..{total - 1}")
    return first, count


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

    def manifest_at(self, now: int) -> Manifest:
        """The current manifest, verified with the server's own key and the deployed minimum
        version (expired or rolled back counts as broken).

        Raises:
            ModelUnavailableError: the stored manifest does not verify, has expired, or is below
                the deployed minimum version.
        """
        token = current_manifest(self._store)
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
        query: Mapping[str, str],
        now: int,
    ) -> bytes:
        """Header and the requested sealed segments of ``name``/``version`` for a session.

        Raises:
            NotFoundError, BadRequestError, ModelUnavailableError: see the helpers.
        """
        entry = self.entry_at(name, version, now)
        first, count = parse_range(query, segment_count(entry.size, SEGMENT_SIZE))
        sealer = StreamSealer(
            model_key_bytes, stream_id(session_id, entry), self.model_bytes(entry), SEGMENT_SIZE
        )
        return bytes(sealer.seal_range(first, count, with_header=True))
