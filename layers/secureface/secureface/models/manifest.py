"""The signed model manifest: what is published, checked by every client before use.

The manifest is a compact JWS (ES256, ``typ`` = :data:`MANIFEST_TYP`) over canonical JSON::

    {"type": "secureface-model-manifest", "manifest_version": 3,
     "issued_at": 1764316800, "expires_at": 1766908800,
     "models": [{"name": "yunet", "version": "2023mar", "role": "detector",
                 "sha256": "<hex>", "size": 232589}, ...]}

A client rejects a bad signature, an expired (or not yet valid) manifest, a lifetime over
:data:`MAX_LIFETIME_S`, a manifest version lower than the highest it has seen (rollback) or more
than :data:`MAX_VERSION_JUMP` above it, then checks each model's SHA-256 and size. The model and
verify functions run the same check with the deployed minimum version as the highest seen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.jws import sign_compact, verify_compact
from secureface.encoding import canonical_json
from secureface.errors import IntegrityError

MANIFEST_TYP = "secureface-manifest+jws"
MANIFEST_TYPE = "secureface-model-manifest"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,31}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
ROLES = frozenset({"detector", "embedding", "antispoof", "landmarks"})
#: The roles a browser downloads and runs (frontend/src/config.js ``browserRoles``): the only
#: models the segments route serves. The embedder and the face mesh run on the server only.
BROWSER_ROLES = frozenset({"detector", "antispoof"})
#: Tolerated clock difference when checking ``issued_at``.
CLOCK_SKEW_S = 300
#: Longest accepted validity (``expires_at - issued_at``): the template's largest
#: ``ManifestTtlSeconds``, 90 days. A leaked signature cannot be valid for a century.
MAX_LIFETIME_S = 90 * 24 * 3600
#: Largest accepted step above the highest version seen: a leaked signature cannot pin clients
#: at an unreachable version (2^53 - 1); the publisher bumps by one.
MAX_VERSION_JUMP = 1000


@dataclass(frozen=True)
class ModelEntry:
    """One published model as the manifest names it."""

    name: str
    version: str
    role: str
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        """The entry as it appears in the manifest payload."""
        return {
            "name": self.name,
            "version": self.version,
            "role": self.role,
            "sha256": self.sha256,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, raw: Any) -> ModelEntry:
        """Parse and validate one entry.

        Raises:
            ValueError: a field is missing or malformed.
        """
        if not isinstance(raw, dict):
            raise ValueError("model entry is not an object")
        name, version, role = raw.get("name"), raw.get("version"), raw.get("role")
        sha256, size = raw.get("sha256"), raw.get("size")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise ValueError(f"invalid model name {name!r}")
        if not isinstance(version, str) or not VERSION_RE.fullmatch(version):
            raise ValueError(f"invalid version for {name}")
        if role not in ROLES:
            raise ValueError(f"invalid role for {name}")
        if not isinstance(sha256, str) or not SHA256_RE.fullmatch(sha256):
            raise ValueError(f"invalid sha256 for {name}")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ValueError(f"invalid size for {name}")
        return cls(name=name, version=version, role=str(role), sha256=sha256, size=size)


@dataclass(frozen=True)
class Manifest:
    """A manifest's content; signing and verifying go through :func:`sign_manifest` and
    :func:`verify_manifest_at`."""

    manifest_version: int
    issued_at: int
    expires_at: int
    models: tuple[ModelEntry, ...]

    def to_payload(self) -> bytes:
        """Canonical JSON bytes: the exact JWS payload."""
        return canonical_json(
            {
                "type": MANIFEST_TYPE,
                "manifest_version": self.manifest_version,
                "issued_at": self.issued_at,
                "expires_at": self.expires_at,
                "models": [m.to_json() for m in self.models],
            }
        )

    def find(self, name: str, version: str) -> ModelEntry | None:
        """The entry for ``name``/``version``, if published."""
        return next((m for m in self.models if m.name == name and m.version == version), None)

    @classmethod
    def from_payload(cls, payload: bytes) -> Manifest:
        """Parse a payload (signature already checked).

        Raises:
            IntegrityError: the payload is not a well-formed manifest.
        """
        try:
            raw = json.loads(payload)
            if not isinstance(raw, dict) or raw.get("type") != MANIFEST_TYPE:
                raise ValueError("not a manifest")
            fields = [raw.get(k) for k in ("manifest_version", "issued_at", "expires_at")]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in fields):
                raise ValueError("version and times must be integers")
            models = tuple(ModelEntry.from_json(m) for m in raw.get("models", []))
            if len({(m.name, m.version) for m in models}) != len(models):
                raise ValueError("duplicate model entries")
        except (ValueError, TypeError) as exc:
            raise IntegrityError(reason=f"malformed manifest: {exc}") from exc
        return cls(
            manifest_version=raw["manifest_version"],
            issued_at=raw["issued_at"],
            expires_at=raw["expires_at"],
            models=models,
        )


def build_manifest(
    version: int, entries: Iterable[ModelEntry], *, now: int, ttl_s: int
) -> Manifest:
    """Assemble a manifest valid from ``now`` for ``ttl_s`` seconds, models sorted by name."""
    models = tuple(sorted(entries, key=lambda m: (m.name, m.version)))
    return Manifest(manifest_version=version, issued_at=now, expires_at=now + ttl_s, models=models)


def sign_manifest(manifest: Manifest, sign_der: Callable[[bytes], bytes], *, kid: str) -> str:
    """Sign ``manifest`` as a compact JWS; ``kid`` is the signing key's SPKI fingerprint."""
    header = {"typ": MANIFEST_TYP, "kid": kid}
    return sign_compact(header, manifest.to_payload(), sign_der)


def verify_manifest_signature(token: str, key: ec.EllipticCurvePublicKey) -> Manifest:
    """Verify the signature and format of a signed manifest, ignoring time and version.

    Raises:
        IntegrityError: bad signature or malformed manifest.
    """
    return Manifest.from_payload(verify_compact(token, key, typ=MANIFEST_TYP).payload)


def verify_manifest_at(
    token: str, key: ec.EllipticCurvePublicKey, *, now: int, min_version: int = 0
) -> Manifest:
    """Verify a signed manifest at time ``now``.

    Args:
        token: the compact JWS.
        key: the pinned manifest-signing public key.
        now: current Unix time in seconds.
        min_version: the highest manifest version this client has already accepted (0: none
            yet); on the server, the deployed minimum (``SECUREFACE_MIN_MANIFEST_VERSION``).

    Raises:
        IntegrityError: bad signature or format (reason says which), a lifetime that is not
            positive or longer than :data:`MAX_LIFETIME_S`, expired, not yet valid, rolled back
            below ``min_version``, or more than :data:`MAX_VERSION_JUMP` above it.
    """
    manifest = verify_manifest_signature(token, key)
    lifetime = manifest.expires_at - manifest.issued_at
    if not 0 < lifetime <= MAX_LIFETIME_S:
        raise IntegrityError(
            reason=f"manifest lifetime {lifetime} s is outside 1..{MAX_LIFETIME_S}"
        )
    if now >= manifest.expires_at:
        raise IntegrityError(reason="manifest expired")
    if manifest.issued_at > now + CLOCK_SKEW_S:
        raise IntegrityError(reason="manifest issued in the future")
    version = manifest.manifest_version
    if version < min_version:
        raise IntegrityError(reason=f"manifest rollback: version {version} < {min_version}")
    if min_version > 0 and version > min_version + MAX_VERSION_JUMP:
        raise IntegrityError(
            reason=f"manifest version jump: {version} > {min_version} + {MAX_VERSION_JUMP}"
        )
    return manifest
