"""The local stack's SigV4 check (tools/devstack/sigv4.py), in process: what API Gateway accepts
on an ``AWS_IAM`` route, and each way of bending a signed admin request that it refuses.

Requests are signed the way ``secureface.client.AdminClient`` signs them (botocore's
``SigV4Auth`` through ``secureface.adapters.aws.sigv4_headers``), or, for the attacks botocore
will not produce (a header left out of the signature), by :func:`sign` below: the SigV4
algorithm written out, checked first to agree with botocore byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack.sigv4 import verify_sigv4
from secureface.adapters.aws import sigv4_headers

AKID, SECRET, REGION = "local", "local-secret", "us-east-1"
URL = "http://127.0.0.1:8080/admin/enrollments"
BODY = json.dumps({"subject_id": "alice", "images": ["AAAA"]}).encode()
SWAPPED = json.dumps({"subject_id": "alice", "images": ["BBBB"]}).encode()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def received(headers: dict[str, str], url: str = URL) -> dict[str, str]:
    """The headers as the local API sees them: lower-case names, ``host`` set by the client."""
    return {"host": urlsplit(url).netloc} | {k.lower(): v for k, v in headers.items()}


def check(headers: dict[str, str], body: bytes = BODY, *, secret: str = SECRET) -> str | None:
    return verify_sigv4("POST", URL, headers, body, AKID, secret)


def botocore_signed(body: bytes = BODY, *, unsigned_payload: bool = False) -> dict[str, str]:
    """Headers botocore's signer adds; ``unsigned_payload`` signs ``UNSIGNED-PAYLOAD`` (the
    header is then part of the signature) instead of the body's hash."""
    request = AWSRequest(method="POST", url=URL, data=body, headers={"Content-Type": "x/y"})
    if unsigned_payload:
        request.context["payload_signing_enabled"] = False
    SigV4Auth(Credentials(AKID, SECRET), "execute-api", REGION).add_auth(request)
    return received(dict(request.headers.items()))


def amz_now(delta: dt.timedelta = dt.timedelta()) -> str:
    return (dt.datetime.now(dt.UTC) + delta).strftime("%Y%m%dT%H%M%SZ")


def sign(
    headers: dict[str, str], signed: list[str], payload_hash: str, *, secret: str = SECRET
) -> dict[str, str]:
    """SigV4 over exactly the headers named in ``signed``, with ``payload_hash`` as the payload
    line: a client free to leave headers out of the signature."""
    amz_date = headers["x-amz-date"]
    canonical = "\n".join([
        "POST", urlsplit(URL).path, "",
        "".join(f"{name}:{headers[name]}\n" for name in signed), ";".join(signed), payload_hash,
    ])  # fmt: skip
    scope = f"{amz_date[:8]}/{REGION}/execute-api/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret}".encode()
    for part in (amz_date[:8], REGION, "execute-api", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={AKID}/{scope}, SignedHeaders={';'.join(signed)}, "
        f"Signature={signature}"
    )
    return headers | {"authorization": authorization}


def plain(**extra: str) -> dict[str, str]:
    base = {"content-type": "x/y", "host": "127.0.0.1:8080", "x-amz-date": amz_now()}
    return base | extra


SHA = hashlib.sha256(BODY).hexdigest()


def test_the_admin_clients_signature_is_accepted() -> None:
    """What AdminClient sends: botocore SigV4 with the caller's credentials (no payload header:
    the canonical request carries the body's hash)."""
    headers = received(sigv4_headers("POST", URL, BODY, {"Content-Type": "application/json"}))
    assert "x-amz-content-sha256" not in headers
    assert set(headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")) >= {
        "host", "x-amz-date",
    }  # fmt: skip
    assert check(headers) is None
    # and a request without a body (DELETE), and one with a query string
    url = "http://127.0.0.1:8080/admin/enrollments/alice?x=2&a=1"
    headers = received(sigv4_headers("DELETE", url, b"", {}), url)
    assert verify_sigv4("DELETE", url, headers, b"", AKID, SECRET) is None


def test_the_reference_signer_agrees_with_botocore() -> None:
    """:func:`sign` is SigV4 as botocore computes it, so its refusals below are of the rule
    broken, not of a different signature."""
    by_botocore = botocore_signed()
    signed = ["content-type", "host", "x-amz-date"]
    ours = sign({k: by_botocore[k] for k in signed}, signed, SHA)
    assert ours["authorization"] == by_botocore["authorization"]
    assert check(ours) is None


def test_a_payload_hash_header_equal_to_the_body_hash_is_accepted() -> None:
    headers = plain(**{"x-amz-content-sha256": SHA})
    signed = ["content-type", "host", "x-amz-content-sha256", "x-amz-date"]
    assert check(sign(headers, signed, SHA)) is None


ALL = ["content-type", "host", "x-amz-date"]
WITH_HASH = ["content-type", "host", "x-amz-content-sha256", "x-amz-date"]
MINUTES_16 = dt.timedelta(minutes=16)
NOT_THE_BODY = "x-amz-content-sha256 is not the SHA-256 of the body"
NO_MATCH = "signature does not match"
Attack = Callable[[], tuple[dict[str, str], bytes]]

#: name → (headers and body received, the refusal)
ATTACKS: dict[str, tuple[Attack, str]] = {
    # a signed request whose body is replaced in flight
    "body swapped after signing": (lambda: (botocore_signed(), SWAPPED), NO_MATCH),
    # the signer declared UNSIGNED-PAYLOAD (and signed that header): any body would do
    "UNSIGNED-PAYLOAD, body swapped": (
        lambda: (botocore_signed(unsigned_payload=True), SWAPPED),
        NOT_THE_BODY,
    ),
    "UNSIGNED-PAYLOAD, body as signed": (
        lambda: (botocore_signed(unsigned_payload=True), BODY),
        NOT_THE_BODY,
    ),
    "payload hash of another body": (
        lambda: (sign(plain(**{"x-amz-content-sha256": SHA}), WITH_HASH, SHA), SWAPPED),
        NOT_THE_BODY,
    ),
    "host not signed": (lambda: (sign(plain(), ALL[::2], SHA), BODY), "host not signed"),
    "x-amz-date not signed": (lambda: (sign(plain(), ALL[:2], SHA), BODY), "x-amz-date not signed"),
    "neither signed": (
        lambda: (sign(plain(), ALL[:1], SHA), BODY),
        "host and x-amz-date not signed",
    ),
    "stale date": (
        lambda: (sign(plain(**{"x-amz-date": amz_now(-MINUTES_16)}), ALL, SHA), BODY),
        "signature timestamp out of range",
    ),
    "date in the future": (
        lambda: (sign(plain(**{"x-amz-date": amz_now(MINUTES_16)}), ALL, SHA), BODY),
        "signature timestamp out of range",
    ),
    "wrong secret": (lambda: (sign(plain(), ALL, SHA, secret="not-the-secret"), BODY), NO_MATCH),
    "a signed header missing from the request": (
        lambda: (without(sign(plain(), ALL, SHA), "content-type"), BODY),
        "a signed header is missing from the request",
    ),
    "signed headers out of order": (
        lambda: (sign(plain(), ALL[::-1], SHA), BODY),
        "signed headers are not sorted and unique",
    ),
    "host rewritten": (lambda: (botocore_signed() | {"host": "api.example"}, BODY), NO_MATCH),
    "no authorization": (lambda: (plain(), BODY), "missing or malformed SigV4 authorization"),
}


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_way_of_bending_a_signed_request_is_refused(attack: str) -> None:
    make, reason = ATTACKS[attack]
    headers, body = make()
    assert check(headers, body) == reason


def test_a_date_within_the_window_is_accepted() -> None:
    for minutes in (-14, 14):
        headers = plain(**{"x-amz-date": amz_now(dt.timedelta(minutes=minutes))})
        assert check(sign(headers, ALL, SHA)) is None


def test_another_access_key_or_service_is_refused() -> None:
    headers = botocore_signed()
    assert verify_sigv4("POST", URL, headers, BODY, "other", SECRET) == (
        "unknown access key or service"
    )
    request = AWSRequest(method="POST", url=URL, data=BODY)
    SigV4Auth(Credentials(AKID, SECRET), "s3", REGION).add_auth(request)
    assert check(received(dict(request.headers.items()))) == "unknown access key or service"
