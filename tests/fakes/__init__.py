"""In-memory implementations of the package's ports, for unit tests of the pure core.

They are real implementations (a real ECDSA key, a dict as a bucket), not mocks of our own code;
integration tests run the same logic against moto and the local API.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.ecdsa import spki_der


class MemoryStore:
    """ObjectStore on a dict."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.puts: list[str] = []

    def get(self, key: str) -> bytes | None:
        return self.objects[key][0] if key in self.objects else None

    def metadata(self, key: str) -> dict[str, str] | None:
        return dict(self.objects[key][1]) if key in self.objects else None

    def put(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        self.objects[key] = (data, dict(metadata))
        self.puts.append(key)


class LocalSigner:
    """Signer with an in-memory P-256 key (KMS stands in for it in production)."""

    def __init__(self, key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self.key = key or ec.generate_private_key(ec.SECP256R1())

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message, ec.ECDSA(hashes.SHA256()))

    def public_key_der(self) -> bytes:
        return spki_der(self.key.public_key())
