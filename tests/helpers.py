"""Small HTTP helpers for tests that talk to the running local stack (127.0.0.1 only)."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from cryptography.hazmat.primitives import serialization

from secureface.client import SecureFaceClient
from secureface.crypto.ecdsa import spki_der
from secureface.models.layout import model_key
from secureface.rp import RelyingPartyClient, StartedTransaction
from secureface.sessions.exchange import ClientSession
from secureface.transactions.result import Result


def http(
    method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request; returns status, lower-cased headers and body (errors included)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def error_body(body: bytes) -> dict[str, Any]:
    """Parse an error body and check it has exactly the shared shape."""
    parsed = json.loads(body)
    assert set(parsed) == {"statusCode", "code", "message"}, parsed
    return dict(parsed)


def pinned_spki(stack: dict[str, Any], which: str = "public_key_pem") -> bytes:
    """The stack's server key (sessions), or with ``which="manifest_public_key_pem"`` its
    manifest key, as DER SPKI."""
    key = serialization.load_pem_public_key(stack[which].encode())
    return spki_der(key)  # type: ignore[arg-type]


def client_for(
    stack: dict[str, Any], state_file: Path | None = None, source_ip: str = ""
) -> SecureFaceClient:
    """A client pinned to the stack's two keys, as a browser configured by it is."""
    return SecureFaceClient(
        stack["urls"]["api"],
        pinned_spki(stack),
        manifest_spki=pinned_spki(stack, "manifest_public_key_pem"),
        state_file=state_file,
        source_ip=source_ip,
    )


def s3_client(stack: dict[str, Any]) -> Any:
    """A boto3 S3 client on the stack's moto server."""
    env = stack["env"]
    return boto3.client(
        "s3",
        endpoint_url=stack["urls"]["aws"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def replace_stored_model(
    stack: dict[str, Any], name: str = "yunet", version: str = "2023mar"
) -> None:
    """The storage attack: overwrite a published model's object with other bytes (SSE-KMS as
    the real objects), leaving the signed manifest as it was."""
    s3_client(stack).put_object(
        Bucket=stack["model_bucket"],
        Key=model_key(name, version),
        Body=b"\x08" * 241169,
        ServerSideEncryption="aws:kms",
    )


def database(stack: dict[str, Any]) -> Any:
    """The stack's MongoDB database (its own one when several stacks share a server)."""
    from pymongo import MongoClient

    return MongoClient(stack["urls"]["mongo"])[stack["mongo_db"]]


def relying_party(stack: dict[str, Any], client_id: str = "demo-bank") -> RelyingPartyClient:
    """A relying party's backend registered in the local stack (``demo-bank``: the example
    bank's registration; ``other-portal``: a second audience), calling the public origin (the
    distribution: the issuer of its result tokens)."""
    secret = stack["relying_parties"][client_id]["client_secret"]
    return RelyingPartyClient(stack["urls"]["web"], client_id, secret)


@dataclass(frozen=True)
class Login:
    """A transaction a relying party started for one login, with what it must check later."""

    rp: RelyingPartyClient
    started: StartedTransaction
    subject: str
    nonce: str
    state: str

    @property
    def token(self) -> str:
        return self.started.client_token

    @property
    def transaction_id(self) -> str:
        return self.started.transaction_id

    def result(self, accept: tuple[str, ...] = ("verified",)) -> Result:
        """Redeem and verify the result as the relying party does."""
        return self.rp.verify(
            self.rp.redeem(self.transaction_id), nonce=self.nonce, subject=self.subject,
            accept=accept,
        )  # fmt: skip


def start_login(
    stack: dict[str, Any], subject: str = "demo", *, client_id: str = "demo-bank", locale: str = ""
) -> Login:
    """Start a transaction for ``subject`` as the relying party ``client_id``."""
    rp = relying_party(stack, client_id)
    nonce, state = secrets.token_urlsafe(24), secrets.token_urlsafe(16)
    started = rp.start(
        subject=subject, nonce=nonce, state=state, locale=locale,
        return_url=stack["relying_parties"][client_id]["return_url"],
    )  # fmt: skip
    return Login(rp, started, subject, nonce, state)


def models_session(client: SecureFaceClient, stack: dict[str, Any]) -> ClientSession:
    """A model-download session under a fresh transaction."""
    return client.open_session(start_login(stack).token, purpose="models")
