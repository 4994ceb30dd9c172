"""No key, token or connection string in the repository: detect-secrets over every tracked file
finds nothing that the reviewed baseline (``.secrets.baseline``, every entry audited as not a
secret) does not already hold. The scan runs with the baseline's own plugins and filters, so the
baseline is the one place its configuration is written.

Updating the baseline after a reviewed false positive: docs/SECURITY.md, "Supply chain and
hygiene".
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.core.secrets_collection import SecretsCollection

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / ".secrets.baseline"

#: Files left out of the scan, each for a reason a reviewer agreed to (``--exclude-files``).
REVIEWED_FILE_EXCLUSIONS = {
    # Protocol vectors written by python -m vectors from fixed test scalars: every value is a
    # key, nonce, signature or token by design, and regenerating them changes every one.
    r"^tests/vectors/[^/]+\.json$",
}
#: Lines left out of the scan (``--exclude-lines``).
REVIEWED_LINE_EXCLUSIONS = {
    # The model catalog's SHA-256 digests (model_versions.json): public, and high-entropy hex.
    r'^\s*"sha256": "[0-9a-f]{64}",?$',
}
#: The plugins that judge by entropy or by a variable's name rather than by a credential's format.
HEURISTIC_PLUGINS = {
    "Base64HighEntropyString",
    "HexHighEntropyString",
    "KeywordDetector",
    "JwtTokenDetector",  # the vectors' manifests and result tokens are JWS by design
}


def load_baseline() -> dict[str, Any]:
    return dict(json.loads(BASELINE.read_text()))


def tracked_files() -> list[str]:
    """``git ls-files`` but the baseline: its hashes are what it lists (``detect-secrets scan
    --baseline .secrets.baseline`` skips it too; the copies scanned here have another path)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return [
        name
        for name in listed.split("\0")
        if name and name != BASELINE.name and (ROOT / name).is_file()
    ]


def scan(root: Path, files: Sequence[str], config: dict[str, Any]) -> SecretsCollection:
    """What ``detect-secrets scan --baseline`` finds in ``files`` (paths relative to ``root``)
    with the plugins and filters of ``config``, a baseline. It writes its answer into the
    baseline it is given, so it gets a copy; the command is the one that updates the real one."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / BASELINE.name
        copy.write_text(json.dumps(config))
        subprocess.run(
            [sys.executable, "-m", "detect_secrets", "scan", "--baseline", str(copy), *files],
            cwd=root, capture_output=True, check=True, timeout=300,
        )  # fmt: skip
        return SecretsCollection.load_from_baseline(json.loads(copy.read_text()))


def not_in_baseline(found: SecretsCollection, baseline: dict[str, Any]) -> list[str]:
    """The findings the baseline does not hold (matched by file, type and hashed secret, so a
    finding that only moved to another line is still known)."""
    new = found - SecretsCollection.load_from_baseline(baseline)
    return sorted(f"{filename}:{secret.line_number}: {secret.type}" for filename, secret in new)


def patterns(baseline: dict[str, Any], filter_name: str) -> set[str]:
    path = f"detect_secrets.filters.regex.{filter_name}"
    return {p for f in baseline["filters_used"] if f["path"] == path for p in f["pattern"]}


# ------------------------------------------------------------------ the repository


@pytest.mark.slow  # 5-7 s on two cores: every tracked file, in a detect-secrets process
def test_no_tracked_file_holds_a_secret_the_baseline_does_not_list() -> None:
    baseline = load_baseline()
    new = not_in_baseline(scan(ROOT, tracked_files(), baseline), baseline)
    assert not new, (
        "possible secrets (remove a real one; for a false positive see docs/SECURITY.md, "
        "'Supply chain and hygiene'):\n" + "\n".join(new)
    )


def test_every_baselined_finding_is_audited_as_not_a_secret() -> None:
    results = load_baseline()["results"]
    assert results  # the baseline is the reviewed scan output, not an empty file
    unaudited = [
        f"{filename}:{item['line_number']}: {item['type']}"
        for filename, items in results.items()
        for item in items
        if item.get("is_secret") is not False
    ]
    assert not unaudited, "audit these (detect-secrets audit .secrets.baseline):\n" + "\n".join(
        unaudited
    )


def test_the_baseline_scans_with_every_plugin_and_only_the_reviewed_exclusions() -> None:
    # Widening an exclusion or dropping a plugin would silence the check above.
    baseline = load_baseline()
    assert baseline["version"] == "1.5.0"
    shipped = {cls.__name__ for cls in get_mapping_from_secret_type_to_class().values()}
    assert {plugin["name"] for plugin in baseline["plugins_used"]} == shipped
    assert patterns(baseline, "should_exclude_file") == REVIEWED_FILE_EXCLUSIONS
    assert patterns(baseline, "should_exclude_line") == REVIEWED_LINE_EXCLUSIONS
    assert not patterns(baseline, "should_exclude_secret")


def format_detectors_only(baseline: dict[str, Any]) -> dict[str, Any]:
    """The baseline without its file exclusions and heuristic plugins: what still runs on the
    excluded files (AWS keys, PEM private keys, credentials in URLs, provider tokens)."""
    return {
        **baseline,
        "plugins_used": [p for p in baseline["plugins_used"] if p["name"] not in HEURISTIC_PLUGINS],
        "filters_used": [
            f for f in baseline["filters_used"] if not f["path"].endswith("should_exclude_file")
        ],
    }


def test_excluded_files_hold_no_credential_by_its_format() -> None:
    # The exclusions only silence the entropy and keyword heuristics on those files.
    baseline = load_baseline()
    excluded = [
        name
        for name in tracked_files()
        if any(re.search(p, name) for p in patterns(baseline, "should_exclude_file"))
    ]
    assert excluded
    assert not not_in_baseline(scan(ROOT, excluded, format_detectors_only(baseline)), baseline)


# ------------------------------------------------------------------ the scan is live


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _aws_keys() -> str:
    key_id = "AKIA" + _random(string.ascii_uppercase + string.digits, 16)
    secret = _random(string.ascii_letters + string.digits + "/+", 40)
    return f'AWS_ACCESS_KEY_ID = "{key_id}"\naws_secret_access_key = "{secret}"\n'


def _mongo_uri() -> str:
    password = base64.urlsafe_b64encode(secrets.token_bytes(18)).decode()
    host = "cluster0." + _random(string.ascii_lowercase + string.digits, 5) + ".mongodb.net"
    return f'MONGO_URI = "mongodb+srv://secureface-verify:{password}@{host}/?retryWrites=true"\n'


def _pem_private_key() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


# Built at run time (fresh random values), so no secret-shaped literal sits in this file.
PLANTED = {
    "an AWS access key pair": ("settings.py", _aws_keys, "AWS Access Key"),
    "a MongoDB connection string with a password": ("config.py", _mongo_uri, "Basic Auth"),
    "a PEM private key": ("deploy-key.pem", _pem_private_key, "Private Key"),
}


@pytest.mark.parametrize("case", PLANTED, ids=list(PLANTED))
def test_the_scan_flags_a_planted_secret(case: str, tmp_path: Path) -> None:
    filename, content, expected_type = PLANTED[case]
    (tmp_path / filename).write_text(content())
    found = not_in_baseline(scan(tmp_path, [filename], load_baseline()), load_baseline())
    assert any(expected_type in finding for finding in found), found


def test_a_key_planted_in_an_excluded_file_is_still_flagged(tmp_path: Path) -> None:
    vector = tmp_path / "tests" / "vectors" / "protocol.json"
    vector.parent.mkdir(parents=True)
    vector.write_text(json.dumps({"server_key_pem": _pem_private_key()}, indent=2))
    baseline = load_baseline()
    name = str(vector.relative_to(tmp_path))
    assert not scan(tmp_path, [name], baseline)  # excluded from the full scan ...
    found = not_in_baseline(scan(tmp_path, [name], format_detectors_only(baseline)), baseline)
    assert found == [f"{name}:2: Private Key"]  # ... and caught by the format detectors
