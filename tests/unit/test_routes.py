"""The route table, the template and the handlers agree; 404/405 come from the table."""

from __future__ import annotations

from pathlib import Path

from devstack.template import read_api
from secureface.api.routes import ROUTES, allowed_methods

REPO = Path(__file__).resolve().parents[2]
FUNCTION_IDS = {
    "keyexchange": "KeyExchangeFunction",
    "model": "ModelFunction",
    "transactions": "TransactionsFunction",
    "verify": "VerifyFunction",
}


def test_template_declares_exactly_the_route_table() -> None:
    api = read_api(REPO / "template.yaml")
    declared = {(r.method, r.path, r.function) for r in api.routes if r.path != "$default"}
    assert declared == {(r.method, r.path, FUNCTION_IDS[r.function]) for r in ROUTES}


def test_default_route_goes_to_the_key_exchange_function() -> None:
    api = read_api(REPO / "template.yaml")
    default = [r for r in api.routes if r.path == "$default"]
    assert [(r.method, r.function) for r in default] == [("ANY", "KeyExchangeFunction")]


def test_allowed_methods_match_path_templates() -> None:
    assert allowed_methods("/models/manifest") == ("GET",)
    assert allowed_methods("/models/yunet/2023mar/segments") == ("GET",)
    assert allowed_methods("/admin/enrollments/alice") == ("DELETE",)
    assert allowed_methods("/models/a/b/c/segments") == ()
    assert allowed_methods("/nope") == ()
