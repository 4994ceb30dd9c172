"""Clients of a running local stack, configured from its info (``devstack.launch``): a browser
pinned to its keys, a relying party registered in it, a login that party started. Shared by
the tests and the benchmarks (neither imports the other)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from secureface.client import SecureFaceClient
from secureface.crypto.ecdsa import spki_der
from secureface.rp import RelyingPartyClient, StartedTransaction
from secureface.transactions.result import Result


def pinned(pem: str) -> bytes:
    """A PEM public key of the stack's info as the DER SPKI a browser pins."""
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise TypeError("the stack's keys are EC P-256")
    return spki_der(key)


def browser(
    info: dict[str, Any], address: str = "", *, origin: str = "web", state_file: Path | None = None
) -> SecureFaceClient:
    """A browser configured by the stack (its two pinned keys), on the public origin (``web``,
    the distribution) or straight on the API (``api``), from ``address`` (a source address on
    127/8: the lockout counts per client)."""
    return SecureFaceClient(
        info["urls"][origin], pinned(info["public_key_pem"]),
        manifest_spki=pinned(info["manifest_public_key_pem"]), state_file=state_file,
        source_ip=address,
    )  # fmt: skip


def bank(info: dict[str, Any], client_id: str = "demo-bank") -> RelyingPartyClient:
    """A relying party's backend registered in the stack (``demo-bank``: the example bank's
    registration; ``other-portal``: a second audience), calling the public origin (the
    distribution: the issuer of its result tokens)."""
    secret = info["relying_parties"][client_id]["client_secret"]
    return RelyingPartyClient(info["urls"]["web"], client_id, secret)


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
    info: dict[str, Any], subject: str = "demo", *, client_id: str = "demo-bank", locale: str = ""
) -> Login:
    """Start a transaction for ``subject`` as the relying party ``client_id``."""
    rp = bank(info, client_id)
    nonce, state = secrets.token_urlsafe(24), secrets.token_urlsafe(16)
    started = rp.start(
        subject=subject, nonce=nonce, state=state, locale=locale,
        return_url=info["relying_parties"][client_id]["return_url"],
    )  # fmt: skip
    return Login(rp, started, subject, nonce, state)
