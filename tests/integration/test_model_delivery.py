"""Model delivery through the running stack: every published model, verified end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secureface.models.catalog import load_catalog
from tests.helpers import client_for, database, models_session, start_login

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def test_python_client_fetches_and_verifies_every_published_model(
    stack: dict[str, Any], tmp_path: Path
) -> None:
    client = client_for(stack, tmp_path / "state.json")
    manifest = client.fetch_manifest()
    session = models_session(client, stack)
    catalog = load_catalog(REPO / "model_versions.json")
    for model in catalog.models:
        entry = manifest.find(model.entry.name, model.entry.version)
        assert entry is not None
        assert client.fetch_model(session, entry) == (REPO / "s3-uploads" / model.file).read_bytes()


def test_bytes_on_the_wire_are_model_size_plus_tags_and_headers(stack: dict[str, Any]) -> None:
    client = client_for(stack)
    manifest = client.fetch_manifest()
    session = models_session(client, stack)
    entry = max(manifest.models, key=lambda m: m.size)
    ranges = client.fetch_ranges(session, entry)
    wire = sum(map(len, ranges))
    assert wire <= 1.001 * entry.size + 32 * len(ranges)
    assert all(len(r) < 6 * 1024 * 1024 * 3 // 4 for r in ranges)  # fits Lambda's cap in base64


def test_cli_fetch_models_writes_verified_files(stack: dict[str, Any], tmp_path: Path) -> None:
    key = Path(stack["state_dir"]) / "server-key.pem"
    result = subprocess.run(
        [sys.executable, "-m", "secureface", "fetch-models", "--api", stack["urls"]["api"],
         "--server-key", str(key), "--out", str(tmp_path / "models"),
         "--state-file", str(tmp_path / "state.json"),
         "--client-token", start_login(stack).token],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PYTHONPATH": str(REPO / "layers/secureface"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    catalog = load_catalog(REPO / "model_versions.json")
    assert f"{len(catalog.models)} models verified" in result.stdout
    for model in catalog.models:
        written = tmp_path / "models" / f"{model.entry.name}-{model.entry.version}.onnx"
        assert written.read_bytes() == (REPO / "s3-uploads" / model.file).read_bytes()


def test_session_keys_are_stored_only_encrypted(stack: dict[str, Any]) -> None:
    session = models_session(client_for(stack), stack)
    db = database(stack)
    doc = db["sessions"].find_one({"_id": session.session_id})
    assert doc is not None
    stored = repr(doc).encode() + b"".join(bytes(v) for v in doc["keys"].values())
    for key in (session.keys.model, session.keys.request, session.keys.response):
        assert key not in stored
    assert len(doc["keys"]["ct"]) == 96 + 16
    assert doc["used"] is False and doc["expire_at"] is not None
