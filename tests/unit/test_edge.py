"""The public origin and the viewer's address behind the distribution (issue 11: the page and
the API under one origin)."""

from __future__ import annotations

import pytest

from secureface.api.http import viewer_address
from secureface.errors import ConfigurationError
from secureface.settings import checked_origin

TOKEN = "t" * 48
EDGE = {"X-SecureFace-Edge": TOKEN}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({**EDGE, "CloudFront-Viewer-Address": "198.51.100.10:46532"}, "198.51.100.10"),
        ({**EDGE, "cloudfront-viewer-address": "2001:db8::7:443"}, "2001:db8::7"),
        ({**EDGE, "CloudFront-Viewer-Address": "[2001:db8::7]:443"}, "2001:db8::7"),
        # a forged viewer address without the distribution's token: the connection counts
        ({"CloudFront-Viewer-Address": "198.51.100.10:1"}, "192.0.2.1"),
        ({"X-SecureFace-Edge": "t" * 47, "CloudFront-Viewer-Address": "198.51.100.10:1"},
         "192.0.2.1"),
        ({"X-SecureFace-Edge": "", "CloudFront-Viewer-Address": "198.51.100.10:1"}, "192.0.2.1"),
        # the token but no usable viewer address
        (EDGE, "192.0.2.1"),
        ({**EDGE, "CloudFront-Viewer-Address": "not-an-ip:443"}, "192.0.2.1"),
        ({**EDGE, "CloudFront-Viewer-Address": "198.51.100.10"}, "192.0.2.1"),
        ({**EDGE, "CloudFront-Viewer-Address": "198.51.100.10:x"}, "192.0.2.1"),
    ],
)  # fmt: skip
def test_the_viewer_address_is_trusted_only_from_the_distribution(
    headers: dict[str, str], expected: str
) -> None:
    assert viewer_address(headers, "192.0.2.1", TOKEN) == expected


def test_without_a_configured_token_no_header_is_trusted() -> None:
    forged = {"X-SecureFace-Edge": "", "CloudFront-Viewer-Address": "198.51.100.10:1"}
    assert viewer_address(forged, "192.0.2.1", "") == "192.0.2.1"


@pytest.mark.parametrize(
    "origin",
    ["https://d1234.cloudfront.net", "https://face.bank.example/", "http://127.0.0.1:8080"],
)
def test_an_origin_is_scheme_host_and_port(origin: str) -> None:
    assert checked_origin(origin) == origin.rstrip("/")


@pytest.mark.parametrize(
    "bad", ["", "face.bank.example", "https://face.bank.example/path", "https://x?q", "ftp://x"]
)
def test_anything_else_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        checked_origin(bad)


def test_the_functions_read_the_public_origin_from_the_stacks_parameter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Production: no origin in the environment, the SSM parameter the template writes."""
    import boto3
    from moto import mock_aws

    from secureface import runtime

    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("SECUREFACE_MODEL_BUCKET", "b")
        monkeypatch.delenv("SECUREFACE_PUBLIC_ORIGIN", raising=False)
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        monkeypatch.setenv("SECUREFACE_PUBLIC_ORIGIN_PARAMETER", "/stack/public-origin")
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name="/stack/public-origin", Value="https://d1234.cloudfront.net", Type="String"
        )
        runtime.reset()
        try:
            assert runtime.issuer() == "https://d1234.cloudfront.net"
            assert runtime.public_origin() == "https://d1234.cloudfront.net"
        finally:
            runtime.reset()
