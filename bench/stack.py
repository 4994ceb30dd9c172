"""A running local stack as the benchmarks use it: a browser pinned to its keys, a bank that
starts logins (never imported from ``tests/``: benchmarks and tests share only the tooling)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization

from secureface.client import SecureFaceClient
from secureface.crypto.ecdsa import spki_der
from secureface.rp import RelyingPartyClient


def pinned(pem: str) -> bytes:
    """A PEM public key of the stack's info as the DER SPKI a browser pins."""
    return spki_der(serialization.load_pem_public_key(pem.encode()))  # type: ignore[arg-type]


def browser(info: dict[str, Any], address: str = "") -> SecureFaceClient:
    """A browser configured by the stack (its two pinned keys), on the public origin, from
    ``address`` (a source address on 127/8: the lockout counts per client)."""
    return SecureFaceClient(
        info["urls"]["web"], pinned(info["public_key_pem"]),
        manifest_spki=pinned(info["manifest_public_key_pem"]), source_ip=address,
    )  # fmt: skip


def bank(info: dict[str, Any], client_id: str = "demo-bank") -> RelyingPartyClient:
    """A relying party's backend registered in the stack, on the public origin (the issuer)."""
    secret = info["relying_parties"][client_id]["client_secret"]
    return RelyingPartyClient(info["urls"]["web"], client_id, secret)


@dataclass(frozen=True)
class Login:
    rp: RelyingPartyClient
    token: str
    transaction_id: str
    nonce: str


def start_login(info: dict[str, Any], subject: str = "demo") -> Login:
    """The bank starts a transaction for ``subject``."""
    rp, nonce = bank(info), secrets.token_urlsafe(24)
    started = rp.start(
        subject=subject, nonce=nonce, state=secrets.token_urlsafe(12),
        return_url=info["relying_parties"]["demo-bank"]["return_url"],
    )  # fmt: skip
    return Login(rp, started.client_token, started.transaction_id, nonce)
