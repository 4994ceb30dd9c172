"""The browser app's runtime ``config.json``: where the API is and which two keys to pin.

Written by the deploy workflow (``python -m secureface frontend-config``) from the stack's
outputs and by the local stack; read by ``frontend/src/config.js``. Each pin is a KMS key's DER
SPKI (base64url) and its SHA-256 (the ``kid`` of what it signs): the server key signs the
per-instance delegations behind every session; the manifest key signs the model manifest and
is usable by the deploy role only, so a compromised function cannot sign a manifest.
"""

from __future__ import annotations

import json

from secureface.crypto.ecdsa import key_fingerprint
from secureface.encoding import b64url_encode


def frontend_config(
    api_url: str,
    public_key_der: bytes,
    manifest_key_der: bytes,
    *,
    start_url: str = "",
    allow_motion_only: bool = False,
) -> bytes:
    """``config.json`` bytes; ``start_url`` is where a person who opens the page without a
    relying party's link is sent to begin (the local example bank); ``allow_motion_only``
    offers the motion-only check (only where the server allows it)."""
    config: dict[str, str | bool] = {
        "apiUrl": api_url.rstrip("/"),
        "serverKeySpki": b64url_encode(public_key_der),
        "serverKeyId": key_fingerprint(public_key_der),
        "manifestKeySpki": b64url_encode(manifest_key_der),
        "manifestKeyId": key_fingerprint(manifest_key_der),
    }
    if start_url:
        config["startUrl"] = start_url
    if allow_motion_only:
        config["allowMotionOnly"] = True
    return (json.dumps(config, indent=2) + "\n").encode()
