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
    default_subject: str = "",
    allow_motion_only: bool = False,
) -> bytes:
    """``config.json`` bytes; ``default_subject`` pre-fills the user ID (local demo only);
    ``allow_motion_only`` offers the motion-only check (only where the server allows it)."""
    config: dict[str, str | bool] = {
        "apiUrl": api_url.rstrip("/"),
        "serverKeySpki": b64url_encode(public_key_der),
        "serverKeyId": key_fingerprint(public_key_der),
    }
    if default_subject:
        config["defaultSubject"] = default_subject
    if allow_motion_only:
        config["allowMotionOnly"] = True
    return (json.dumps(config, indent=2) + "\n").encode()
