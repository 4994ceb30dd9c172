"""The browser app's runtime ``config.json``: where the API is and which server key to pin.

Written by the deploy workflow (``python -m secureface frontend-config``) from the stack's
outputs and by the local stack; read by ``frontend/src/config.js``. The pin is the KMS signing
key's DER SPKI (base64url) and its SHA-256, the key id of every manifest and delegation.
"""

from __future__ import annotations

import json

from secureface.crypto.ecdsa import key_fingerprint
from secureface.encoding import b64url_encode


def frontend_config(
    api_url: str,
    public_key_der: bytes,
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
    }
    if start_url:
        config["startUrl"] = start_url
    if allow_motion_only:
        config["allowMotionOnly"] = True
    return (json.dumps(config, indent=2) + "\n").encode()
