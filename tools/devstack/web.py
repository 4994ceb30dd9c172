"""The static frontend as served locally: same security headers as the CloudFront policy."""

from __future__ import annotations

from pathlib import Path

from devstack.functions import REPO
from devstack.template import load_template


def site_root() -> Path:
    """The built frontend (``frontend/dist``); created empty if the build has not run."""
    root = REPO / "frontend" / "dist"
    root.mkdir(parents=True, exist_ok=True)
    return root


def security_headers() -> dict[str, str]:
    """Headers of the template's CloudFront ResponseHeadersPolicy (page and API alike).

    Reading them from ``template.yaml`` keeps local and production identical.
    """
    template = load_template(REPO / "template.yaml")
    policy = next(
        r["Properties"]["ResponseHeadersPolicyConfig"]
        for r in template["Resources"].values()
        if r.get("Type") == "AWS::CloudFront::ResponseHeadersPolicy"
    )
    security = policy.get("SecurityHeadersConfig", {})
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    if not isinstance(csp, str):
        raise ValueError("the template's CSP must be a plain string (the API is 'self')")
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    for item in policy.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"]] = str(item["Value"])
    return headers
