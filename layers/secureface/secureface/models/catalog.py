"""The catalog: ``model_versions.json``, the reviewed source of truth of what gets published.

It carries the manifest version (bumped by a human in a reviewed change, so the number survives
any storage reset and can never go backwards by accident) and, per model, its file, SHA-256, size,
role, input spec, provenance and licence.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secureface.errors import PublishError
from secureface.models.manifest import ModelEntry


@dataclass(frozen=True)
class CatalogModel:
    """One model of the catalog: the manifest entry plus the file that holds it."""

    entry: ModelEntry
    file: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Catalog:
    """The whole catalog."""

    manifest_version: int
    models: tuple[CatalogModel, ...]

    @property
    def entries(self) -> tuple[ModelEntry, ...]:
        """The manifest entries of every model."""
        return tuple(m.entry for m in self.models)


def load_catalog(path: Path) -> Catalog:
    """Read and validate ``model_versions.json``.

    Raises:
        PublishError: unreadable, malformed, or with duplicate/invalid entries.
    """
    try:
        raw = json.loads(path.read_text())
        version = raw["manifest_version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ValueError("manifest_version must be a positive integer")
        models = tuple(_parse_model(m) for m in raw["models"])
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise PublishError(f"invalid catalog {path.name}: {exc}") from exc
    if len({(m.entry.name, m.entry.version) for m in models}) != len(models):
        raise PublishError("catalog lists a model name/version twice")
    return Catalog(manifest_version=version, models=models)


def _parse_model(raw: dict[str, Any]) -> CatalogModel:
    entry = ModelEntry.from_json(raw)
    file = raw.get("file")
    if not isinstance(file, str) or "/" in file or file.startswith("."):
        raise ValueError(f"invalid file for {entry.name}")
    return CatalogModel(entry=entry, file=file, details=raw)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_verified(model: CatalogModel, directory: Path) -> bytes:
    """Read a model file and check its size and SHA-256 against the catalog.

    Raises:
        PublishError: the file is missing or differs from the catalog.
    """
    path = directory / model.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PublishError(f"{model.file}: cannot read ({exc.strerror})") from exc
    actual = hashlib.sha256(data).hexdigest()
    if len(data) != model.entry.size or actual != model.entry.sha256:
        raise PublishError(
            f"{model.file}: sha256 {actual} / size {len(data)} differ from the catalog "
            f"({model.entry.sha256} / {model.entry.size})"
        )
    return data
