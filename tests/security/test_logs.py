"""Secrets never reach the logs: after a relying party's transaction, key exchanges, model
downloads, a verification and the redemption, no function log holds a session key, a nonce, a
ciphertext, an image, a private key, a client secret or token, or the result token."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from livesim import bursts, people
from secureface.encoding import b64url_encode
from tests.helpers import client_for, start_login

pytestmark = pytest.mark.integration


def test_function_logs_hold_no_secrets(stack: dict[str, Any]) -> None:
    client = client_for(stack)
    manifest = client.fetch_manifest()
    login = start_login(stack)
    session = client.open_session(login.token, purpose="models")
    client.fetch_model(session, manifest.models[0])
    verify_session = client.open_session(login.token)
    burst = bursts.genuine_burst(
        people.astronaut(), verify_session.transcript.challenge, screen_share=0.3
    )
    frames = list(burst.frames)
    client.verify(verify_session, frames, list(burst.times_ms), transaction_id=login.transaction_id)
    result_token = login.rp.redeem(login.transaction_id)

    logs = "".join(
        p.read_text(errors="replace")
        for p in (Path(stack["state_dir"]) / "logs").glob("*Function.log")
    )
    assert "session opened" in logs and "verify decided" in logs  # the logs are the right ones
    for s in (session, verify_session):
        for key in (s.keys.model, s.keys.request, s.keys.response):
            for form in (key.hex(), b64url_encode(key), base64.b64encode(key).decode()):
                assert form not in logs
        assert b64url_encode(s.transcript.client_nonce) not in logs
        assert b64url_encode(s.transcript.server_public_key) not in logs
    # the relying party's secrets: its client secret, the client token, the result, the nonce
    client_secret = stack["relying_parties"]["demo-bank"]["client_secret"]
    for secret in (client_secret, login.token, result_token, login.nonce, login.state):
        assert secret not in logs
    # No liveness measurement either: reasons only (scores help tune an attack).
    for marker in (
        "PRIVATE KEY", '"body"', base64.b64encode(frames[0][:30]).decode(),
        "ciphertext", "cosine", "residual", "anti-spoof",
    ):  # fmt: skip
        assert marker not in logs
    # "gain" is short enough for hundreds of random base64url ids to hold it about once in a
    # thousand runs: it is searched with them taken out (field names, lower case, stay in).
    words = RANDOM_ID.sub("<id>", logs)
    assert "<id>" in words  # the ids were there
    assert "gain" not in words


#: A token of 22 or more base64url characters holding an upper-case letter or a digit: a
#: random identifier or token, never a field name or a word.
RANDOM_ID = re.compile(r"(?<![\w-])(?=[\w-]*[A-Z0-9])[\w-]{22,}(?![\w-])", re.ASCII)
