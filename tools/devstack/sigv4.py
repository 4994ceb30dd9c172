"""Check AWS SigV4 signatures as API Gateway does for ``AWS_IAM`` routes, against the local
credentials (the only identity the local stack knows). Production uses real IAM; this keeps the
admin routes honest locally.

The canonical request is rebuilt from what arrived, never from what the request says about
itself:

* the payload line is the SHA-256 of the body received. An ``x-amz-content-sha256`` header, when
  present, must be exactly that hash: ``UNSIGNED-PAYLOAD`` (or any other value) is refused, as
  ``execute-api`` has no unsigned payloads; otherwise a signature over the headers alone would
  let anyone holding one signed admin request swap its body;
* the canonical headers are the ones the client lists in ``SignedHeaders``, in that list's form
  (sorted, lower-case, each present in the request), and the list must name ``host`` and
  ``x-amz-date``: a signature that does not cover them could be replayed to another host or
  re-dated;
* ``x-amz-date`` is within 15 minutes of now (API Gateway's window) and on the credential
  scope's day.

Path and query are canonicalised with botocore's own rules (the signer the clients use).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from urllib.parse import quote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?"
    r"Signature=(?P<sig>[0-9a-f]{64})$"
)
SERVICE = "execute-api"
MAX_SKEW = dt.timedelta(minutes=15)
#: Headers every signature must cover.
REQUIRED_SIGNED = ("host", "x-amz-date")


def verify_sigv4(
    method: str, url: str, headers: dict[str, str], body: bytes, access_key: str, secret_key: str
) -> str | None:
    """``None`` if the request is validly signed by ``access_key``, else the reason.

    ``headers`` are the request's headers with lower-case names; ``body`` the bytes received.
    """
    match = _AUTH.match(headers.get("authorization", ""))
    if match is None:
        return "missing or malformed SigV4 authorization"
    if match["akid"] != access_key or match["service"] != SERVICE:
        return "unknown access key or service"
    signed = match["signed"].split(";")
    if signed != sorted(set(signed)):
        return "signed headers are not sorted and unique"
    unsigned = [name for name in REQUIRED_SIGNED if name not in signed]
    if unsigned:
        return f"{' and '.join(unsigned)} not signed"
    if any(name not in headers for name in signed):
        return "a signed header is missing from the request"
    amz_date = headers["x-amz-date"]
    try:
        when = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return "malformed x-amz-date"
    if abs(dt.datetime.now(dt.UTC) - when) > MAX_SKEW or match["date"] != amz_date[:8]:
        return "signature timestamp out of range"
    body_sha256 = hashlib.sha256(body).hexdigest()
    declared = headers.get("x-amz-content-sha256")
    if declared is not None and declared != body_sha256:
        return "x-amz-content-sha256 is not the SHA-256 of the body"
    canonical = "\n".join(
        [
            method.upper(),
            quote(normalize_url_path(urlsplit(url).path), safe="/~"),
            _canonical_query(url),
            "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed),
            ";".join(signed),
            body_sha256,
        ]
    )
    scope = f"{match['date']}/{match['region']}/{SERVICE}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret_key}".encode()
    for part in (match["date"], match["region"], SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["sig"]):
        return "signature does not match"
    return None


def _canonical_query(url: str) -> str:
    """The canonical query string, by botocore's rules (sorted, as encoded by the signer)."""
    auth = SigV4Auth(Credentials("", ""), SERVICE, "")
    return str(auth.canonical_query_string(AWSRequest(method="GET", url=url)))
