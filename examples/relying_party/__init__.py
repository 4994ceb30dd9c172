"""Demo Bank: an example relying party with its own backend (standard library +
:mod:`secureface.rp`). Run it with ``python -m examples.relying_party``; see README.md."""

from examples.relying_party.app import serve

__all__ = ["serve"]
