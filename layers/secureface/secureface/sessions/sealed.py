"""Messages sealed under a session key: the verify request and its answer.

Body of ``POST /verify`` (JSON)::

    {"session_id": "<id>", "nonce": "<b64url 12 bytes>", "ciphertext": "<b64url>"}

``ciphertext`` is AES-256-GCM under ``K_request`` with associated data
``"secureface/v1/verify-request" ‖ 0x00 ‖ session_id``; the answer is the same shape (without
``session_id``) under ``K_response`` with ``"secureface/v1/verify-response"``. Binding the
session id and the direction in the associated data means a ciphertext cannot be moved to another
session or reflected back.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secureface.encoding import b64url_decode, b64url_encode
from secureface.errors import BadRequestError, IntegrityError

REQUEST_LABEL = b"secureface/v1/verify-request"
RESPONSE_LABEL = b"secureface/v1/verify-response"
NONCE_LEN = 12


def _aad(label: bytes, session_id: str) -> bytes:
    return label + b"\x00" + session_id.encode()


def seal_message(key: bytes, label: bytes, session_id: str, plaintext: bytes) -> dict[str, str]:
    """Encrypt ``plaintext`` for ``session_id`` in the direction named by ``label``."""
    nonce = os.urandom(NONCE_LEN)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(label, session_id))
    return {"nonce": b64url_encode(nonce), "ciphertext": b64url_encode(ciphertext)}


def open_message(key: bytes, label: bytes, session_id: str, body: dict[str, Any]) -> bytes:
    """Decrypt a sealed message.

    Raises:
        IntegrityError: malformed fields, wrong key, wrong session or direction, tampering.
    """
    try:
        nonce = b64url_decode(body.get("nonce", ""), field="nonce", max_len=32)
        ciphertext = b64url_decode(body.get("ciphertext", ""), field="ciphertext")
    except BadRequestError as exc:
        raise IntegrityError(reason=f"sealed message: {exc.message}") from exc
    if len(nonce) != NONCE_LEN:
        raise IntegrityError(reason="sealed message nonce has the wrong length")
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, _aad(label, session_id))
    except (InvalidTag, ValueError) as exc:
        raise IntegrityError(reason="sealed message does not authenticate") from exc
