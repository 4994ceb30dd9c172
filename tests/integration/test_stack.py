"""The local stack as a newcomer gets it: API, storage, frontend, all through real servers."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.ecdsa import raw_to_der
from secureface.encoding import b64url_decode
from secureface.models.catalog import load_catalog
from tests.helpers import error_body, http, s3_client

pytestmark = pytest.mark.integration


def test_manifest_signature_verifies_with_the_printed_manifest_key(stack: dict[str, Any]) -> None:
    status, headers, body = http("GET", stack["urls"]["api"] + "/models/manifest")
    assert status == 200 and headers["content-type"] == "application/json"
    token = json.loads(body)["manifest"]
    protected, payload, signature = token.split(".")
    assert stack["manifest_public_key_pem"] != stack["public_key_pem"]  # two keys, two pins
    key = serialization.load_pem_public_key(stack["manifest_public_key_pem"].encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(
        raw_to_der(b64url_decode(signature)),
        f"{protected}.{payload}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    manifest = json.loads(b64url_decode(payload))
    catalog = load_catalog(Path("model_versions.json"))
    assert manifest["manifest_version"] == catalog.manifest_version
    assert {(m["name"], m["sha256"]) for m in manifest["models"]} == {
        (m.entry.name, m.entry.sha256) for m in catalog.models
    }


def test_unknown_route_is_404_in_the_error_shape(stack: dict[str, Any]) -> None:
    status, _, body = http("GET", stack["urls"]["api"] + "/no/such/route")
    assert status == 404
    assert error_body(body) == {
        "statusCode": 404,
        "code": "not_found",
        "message": "No route GET /no/such/route",
    }


def test_wrong_method_is_405_with_allow(stack: dict[str, Any]) -> None:
    status, headers, body = http("DELETE", stack["urls"]["api"] + "/models/manifest")
    assert status == 405
    assert headers["allow"] == "GET"
    assert error_body(body)["code"] == "method_not_allowed"


def test_admin_route_refuses_unsigned_requests(stack: dict[str, Any]) -> None:
    status, _, _ = http("POST", stack["urls"]["api"] + "/admin/enrollments", body=b"{}")
    assert status == 403


def test_admin_route_binds_the_signature_to_the_body(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10: a signature over ``UNSIGNED-PAYLOAD`` let one signed admin request carry any
    body. AdminClient's signature (botocore, the body's hash in the canonical request) passes the
    IAM check and reaches the function, which refuses the empty enrollment (400); the same body
    under an ``UNSIGNED-PAYLOAD`` signature, or swapped after signing, is refused at the API (403)
    and never reaches it (tests/unit/test_sigv4.py has every other case)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from secureface.adapters.aws import sigv4_headers

    env = stack["env"]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.setenv(name, env[name])
    url = stack["urls"]["api"] + "/admin/enrollments"
    signed, swapped = b'{"subject_id": "nobody", "images": []}', b'{"subject_id": "victim"}'
    json_type = {"Content-Type": "application/json"}

    def unsigned_payload(body: bytes) -> dict[str, str]:
        request = AWSRequest(method="POST", url=url, data=body, headers=json_type)
        request.context["payload_signing_enabled"] = False  # signs "UNSIGNED-PAYLOAD"
        credentials = Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
        SigV4Auth(credentials, "execute-api", env["AWS_REGION"]).add_auth(request)
        assert request.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
        return dict(request.headers.items())

    status, _, body = http(
        "POST", url, body=signed, headers=sigv4_headers("POST", url, signed, json_type)
    )
    assert status == 400, body
    cases = {
        "swapped after signing": (sigv4_headers("POST", url, signed, json_type), swapped),
        "UNSIGNED-PAYLOAD, swapped": (unsigned_payload(signed), swapped),
        "UNSIGNED-PAYLOAD, as signed": (unsigned_payload(signed), signed),
    }
    for case, (headers, sent) in cases.items():
        status, _, body = http("POST", url, body=sent, headers=headers)
        assert (status, body) == (403, b'{"message":"Forbidden"}'), case


def test_models_are_stored_with_sse_kms_under_versioned_keys(stack: dict[str, Any]) -> None:
    s3 = s3_client(stack)
    head = s3.head_object(Bucket=stack["model_bucket"], Key="models/yunet/2023mar/model.onnx")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert stack["data_key_id"] in head["SSEKMSKeyId"]
    versioning = s3.get_bucket_versioning(Bucket=stack["model_bucket"])
    assert versioning["Status"] == "Enabled"


def test_frontend_is_served_with_isolation_and_csp_headers(stack: dict[str, Any]) -> None:
    status, headers, body = http("GET", stack["urls"]["web"] + "/")
    assert status == 200 and b"SecureFace" in body
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cross-origin-embedder-policy"] == "require-corp"
    csp = headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "connect-src 'self';" in csp  # the API is under the page's own origin


def test_frontend_config_pins_the_server_key_and_the_manifest_key(stack: dict[str, Any]) -> None:
    status, _, body = http("GET", stack["urls"]["web"] + "/config.json")
    config = json.loads(body)
    assert status == 200 and config["apiUrl"] == stack["urls"]["web"]
    for field, pem in (("serverKey", "public_key_pem"), ("manifestKey", "manifest_public_key_pem")):
        key = serialization.load_pem_public_key(stack[pem].encode())
        der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert b64url_decode(config[f"{field}Spki"]) == der
        assert config[f"{field}Id"] == hashlib.sha256(der).hexdigest()


def test_the_page_origin_serves_the_api_and_no_origin_gets_cors(stack: dict[str, Any]) -> None:
    """Same origin, as under CloudFront: the browser's routes answer on the page's origin with
    the page's security headers; no route answers a preflight with CORS headers, for any
    origin; the admin routes are not served there at all (execute-api only, SigV4)."""
    web = stack["urls"]["web"]
    status, headers, body = http("GET", web + "/models/manifest")
    assert status == 200 and "manifest" in json.loads(body)
    assert headers["cross-origin-resource-policy"] == "same-origin"
    for origin in (web, "http://evil.example"):
        preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        for url in (web + "/session", stack["urls"]["api"] + "/session"):
            _, headers, _ = http("OPTIONS", url, headers=preflight)
            assert not any(h.startswith("access-control-") for h in headers), (url, headers)
    status, _, _ = http("POST", web + "/admin/enrollments", body=b"{}")
    assert status == 403  # the distribution's default behavior: GET and HEAD from the bucket


def test_deploy_writes_the_same_config_with_the_cli(stack: dict[str, Any]) -> None:
    env = {**os.environ, **stack["env"], "PYTHONPATH": str(Path("layers/secureface").resolve())}
    result = subprocess.run(
        [sys.executable, "-m", "secureface", "frontend-config", "--api", stack["urls"]["web"]],
        capture_output=True, env=env, check=True, timeout=60,
    )  # fmt: skip
    written = json.loads(result.stdout)
    served = json.loads(http("GET", stack["urls"]["web"] + "/config.json")[2])
    assert written == {k: v for k, v in served.items() if k != "startUrl"}  # the local demo bank
    assert "defaultSubject" not in written  # the demo subject is a local-stack convenience
