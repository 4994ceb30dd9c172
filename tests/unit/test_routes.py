"""The route table, the template and the handlers agree; 404/405 come from the table."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

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


def test_the_openapi_document_describes_exactly_the_route_table() -> None:
    """docs/openapi.yaml (what schemathesis fuzzes and integrators read) has every route of the
    table and no other, each with the path parameters its template names."""
    spec = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    described = {
        (method.upper(), path) for path, item in spec["paths"].items() for method in item
        if method in methods
    }  # fmt: skip
    assert described == {(r.method, r.path) for r in ROUTES}
    for route in ROUTES:
        operation = spec["paths"][route.path][route.method.lower()]
        shared = spec["paths"][route.path].get("parameters", [])
        params = {
            p["name"] for p in [*shared, *operation.get("parameters", [])] if p.get("in") == "path"
        }
        assert params == set(re.findall(r"\{(\w+)\}", route.path)), route
