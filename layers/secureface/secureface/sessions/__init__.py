"""Authenticated ECDH sessions: the key exchange, the key schedule, session records."""
