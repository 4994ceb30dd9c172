"""The published ONNX models from ``s3-uploads/``, loaded once per process for tests and benches.

The files are the ones ``model_versions.json`` lists (checked by tests/unit/test_models.py); they
are read from disk, never downloaded.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from secureface.adapters.onnx_runtime import OnnxModel
from secureface.verify.analysis import FaceEngine

ROOT = Path(__file__).resolve().parents[2]
UPLOADS = ROOT / "s3-uploads"
FILES = {
    "detector": "yunet-2023mar.onnx",
    "embedding": "sface-2021dec.onnx",
    "antispoof": "antispoof-human-3.3.6.onnx",
    "landmarks": "facemesh-mp0.10.14.onnx",
}


@cache
def model(role: str) -> OnnxModel:
    """The model for ``role`` (``detector``, ``embedding``, ``antispoof`` or ``landmarks``),
    created once."""
    return OnnxModel((UPLOADS / FILES[role]).read_bytes())


@cache
def face_engine() -> FaceEngine:
    """A :class:`FaceEngine` over the published models (the face mesh included), created once."""
    return FaceEngine(
        model("detector"), model("embedding"), model("antispoof"), landmarks=model("landmarks")
    )
