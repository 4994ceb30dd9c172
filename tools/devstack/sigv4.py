"""Check AWS SigV4 signatures as API Gateway does for ``AWS_IAM`` routes, against the local
credentials (the only identity the local stack knows).

Recomputes the signature with botocore's own SigV4 implementation over the signed headers,
method, path, query and body, and refuses a wrong key, a wrong signature or a timestamp more than
five minutes away. Production uses real IAM; this keeps admin routes honest locally.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?"
    r"Signature=(?P<sig>[0-9a-f]{64})$"
)
MAX_SKEW = dt.timedelta(minutes=5)


def verify_sigv4(
    method: str, url: str, headers: dict[str, str], body: bytes, access_key: str, secret_key: str
) -> str | None:
    """``None`` if the request is validly signed by ``access_key``, else the reason."""
    match = _AUTH.match(headers.get("authorization", ""))
    if match is None:
        return "missing or malformed SigV4 authorization"
    if match["akid"] != access_key or match["service"] != "execute-api":
        return "unknown access key or service"
    amz_date = headers.get("x-amz-date", "")
    try:
        when = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return "missing x-amz-date"
    if abs(dt.datetime.now(dt.UTC) - when) > MAX_SKEW or match["date"] != amz_date[:8]:
        return "signature timestamp out of range"
    signed = match["signed"].split(";")
    request = AWSRequest(
        method=method, url=url, data=body, headers={h: headers.get(h, "") for h in signed}
    )
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(access_key, secret_key), "execute-api", match["region"])
    expected = auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request
    )
    if not hmac.compare_digest(expected, match["sig"]):
        return "signature does not match"
    return None
