"""Schemathesis against the running local API, driven by docs/openapi.yaml: whatever the
inputs (valid-looking, malformed, edge values), no route answers a server error, and every error
has the shared body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.integration
SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
schema = schemathesis.openapi.from_path(SPEC)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case: Any, stack: dict[str, Any]) -> None:
    response = case.call(base_url=stack["urls"]["api"], timeout=60)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if 400 <= response.status_code < 500 and response.status_code != 403:
        body = json.loads(response.content)
        assert set(body) == {"statusCode", "code", "message"}
        assert body["statusCode"] == response.status_code
