"""Pure cryptographic building blocks (``cryptography`` only, no I/O)."""
