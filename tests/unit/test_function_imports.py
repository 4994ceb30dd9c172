"""Each function imports with only the layers template.yaml gives it (found by issue 11's
capacity review: the key exchange and transactions functions imported numpy through the audit
port, which only the verify function's ML layer ships; every test ran with numpy installed, so
only a deployed cold start would have failed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devstack.template import load_template
from tests.blocker import blocker

ROOT = Path(__file__).resolve().parents[2]
#: What each layer installs beyond the core layer (layers/*/requirements.txt).
ML_ONLY = ("numpy", "onnxruntime", "PIL")
#: What the core-only functions build at their first request (runtime's getters import their
#: adapters lazily): built here with settings that point nowhere — nothing connects until used,
#: and a refusal of the stores is fine; a missing module is not.
REQUEST_PATH = """
from secureface import runtime
from secureface.errors import SecureFaceError
for getter in (runtime.key_exchange_service, runtime.model_service, runtime.transaction_service,
               runtime.session_vault, runtime.audit_log):
    try:
        getter()
    except SecureFaceError:
        pass
"""

#: After the blocker: the function's code on the path, as the Lambda runtime has it.
LOAD_APP = """
sys.path.insert(0, {code!r})
import app
assert callable(app.lambda_handler)
{extra}
"""


def script(blocked: tuple[str, ...], code: str, extra: str) -> str:
    return blocker(blocked, "not in this function's layers") + LOAD_APP.format(
        code=code, extra=extra
    )


def functions() -> list[tuple[str, str, bool]]:
    """``(logical id, CodeUri, has the ML layer)`` of every function."""
    template = load_template(ROOT / "template.yaml")
    found = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        layers = {ref.get("Ref") for ref in props.get("Layers", []) if isinstance(ref, dict)}
        found.append((name, props["CodeUri"], "MlLayer" in layers))
    return found


@pytest.mark.parametrize(("name", "code", "ml"), functions(), ids=lambda v: str(v))
def test_each_function_imports_with_only_its_layers(name: str, code: str, ml: bool) -> None:
    blocked = () if ml else ML_ONLY
    source = script(blocked, str(ROOT / code), REQUEST_PATH)
    nowhere = {
        "SECUREFACE_MODEL_BUCKET": "nowhere", "SECUREFACE_MONGO_URI": "mongodb://127.0.0.1:9/",
        "SECUREFACE_PUBLIC_ORIGIN": "https://face.example", "SECUREFACE_SIGNING_KEY_ID": "k",
        "SECUREFACE_DATA_KEY_ID": "k", "SECUREFACE_MANIFEST_KEY_ID": "k",
        "SECUREFACE_RP_REGISTRY_SECRET_ID": "s", "SECUREFACE_MIN_MANIFEST_VERSION": "1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT / "layers/secureface"), "PATH": "/usr/bin:/bin",
             "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", **nowhere},
    )  # fmt: skip
    assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"


def test_the_check_would_see_a_missing_layer() -> None:
    """The blocker itself works: the verify use case does need the ML layer."""
    source = script(ML_ONLY, str(ROOT / "functions/verify"), "import secureface.verify.service")
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT / "layers/secureface"), "PATH": "/usr/bin:/bin",
             "POWERTOOLS_TRACE_DISABLED": "true"},
    )  # fmt: skip
    assert done.returncode != 0 and "not in this function's layers" in done.stderr
