"""Relying-party transactions: an RP's backend starts a check, the hosted page runs it, the RP
redeems a signed result once (docs/INTEGRATION.md, docs/PROTOCOL.md §7)."""
