"""Where the model set lives in its bucket: the one place that says it (publishing writes these
keys, the model and verify functions and the doctor read them, the bucket policy protects the
two prefixes: ``manifest/`` and ``models/``)."""

from __future__ import annotations

#: The current signed manifest (a compact JWS).
MANIFEST_KEY = "manifest/current.jws"


def model_key(name: str, version: str) -> str:
    """Object key of a published model (immutable once written)."""
    return f"models/{name}/{version}/model.onnx"


def archived_manifest_key(version: int) -> str:
    """Object key under which each manifest version is kept (never read by the functions)."""
    return f"manifest/v{version:08d}.jws"
