"""Publishing: catalog + files → encrypted objects and a freshly signed manifest.

Rules, each enforced here and tested:

* every file must match the catalog's SHA-256 and size, checked before anything is uploaded;
* a model object is immutable: ``models/<name>/<version>/model.onnx`` is uploaded once, and an
  existing object with another SHA-256 is refused (a changed model needs a new version);
* the manifest version never goes down, and the same version may not name different models;
* publishing is idempotent: the same catalog re-published uploads nothing while the current
  manifest is still fresh (more than half of its lifetime left); otherwise the same content is
  re-signed with a new validity window (the weekly deploy job relies on that).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.ecdsa import key_fingerprint, load_public_key
from secureface.errors import IntegrityError, PublishError
from secureface.models.catalog import Catalog, read_verified
from secureface.models.layout import MANIFEST_KEY, archived_manifest_key, model_key
from secureface.models.manifest import (
    MAX_LIFETIME_S,
    Manifest,
    build_manifest,
    sign_manifest,
    verify_manifest_signature,
)
from secureface.ports import ObjectStore, Signer

log = logging.getLogger(__name__)


@dataclass
class PublishResult:
    """What a publish run did."""

    manifest_version: int
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    signed: bool = False
    manifest: str = ""


def publish_at(
    catalog: Catalog,
    directory: Path,
    store: ObjectStore,
    signer: Signer,
    *,
    now: int,
    ttl_s: int,
) -> PublishResult:
    """Publish ``catalog`` (files in ``directory``) at Unix time ``now``.

    Raises:
        PublishError: a file differs from the catalog, a model object would change, the
            manifest version would go down, the same version would name other models, or
            ``ttl_s`` is longer than clients accept (:data:`MAX_LIFETIME_S`).
    """
    if not 0 < ttl_s <= MAX_LIFETIME_S:
        raise PublishError(f"manifest TTL {ttl_s} s is outside 1..{MAX_LIFETIME_S} (90 days)")
    blobs = {m.entry: read_verified(m, directory) for m in catalog.models}
    public_key = load_public_key(signer.public_key_der())
    current = _current_manifest(store, public_key)
    result = PublishResult(manifest_version=catalog.manifest_version)
    if current is not None:
        if catalog.manifest_version < current.manifest_version:
            raise PublishError(
                f"manifest version {catalog.manifest_version} is lower than the published "
                f"{current.manifest_version}"
            )
        same_models = set(current.models) == set(catalog.entries)
        if catalog.manifest_version == current.manifest_version and not same_models:
            raise PublishError(
                f"manifest version {catalog.manifest_version} is already published with other "
                "models: bump manifest_version in model_versions.json"
            )
        fresh = current.expires_at - now > ttl_s // 2
        if same_models and fresh and catalog.manifest_version == current.manifest_version:
            result.skipped = [model_key(e.name, e.version) for e in blobs]
            result.manifest = (store.get(MANIFEST_KEY) or b"").decode()
            return result
    for entry, data in blobs.items():
        _upload_model(store, entry.name, entry.version, entry.sha256, data, result)
    manifest = build_manifest(catalog.manifest_version, blobs, now=now, ttl_s=ttl_s)
    token = sign_manifest(manifest, signer.sign, kid=key_fingerprint(signer.public_key_der()))
    store.put(archived_manifest_key(manifest.manifest_version), token.encode(), {})
    store.put(MANIFEST_KEY, token.encode(), {"manifest-version": str(manifest.manifest_version)})
    result.signed, result.manifest = True, token
    log.info("published manifest", extra={"manifest_version": manifest.manifest_version})
    return result


def _current_manifest(store: ObjectStore, public_key: ec.EllipticCurvePublicKey) -> Manifest | None:
    token = store.get(MANIFEST_KEY)
    if token is None:
        return None
    try:
        # Expired is fine here (we are about to re-sign); a bad signature is not.
        return verify_manifest_signature(token.decode(), public_key)
    except (IntegrityError, UnicodeDecodeError) as exc:
        raise PublishError(
            "the published manifest does not verify with the signing key; refusing to overwrite"
        ) from exc


def _upload_model(
    store: ObjectStore, name: str, version: str, sha256: str, data: bytes, result: PublishResult
) -> None:
    key = model_key(name, version)
    existing = store.metadata(key)
    if existing is not None:
        if existing.get("sha256") != sha256:
            raise PublishError(f"{key} is already published with another sha256")
        result.skipped.append(key)
        return
    store.put(key, data, {"sha256": sha256})
    result.uploaded.append(key)
