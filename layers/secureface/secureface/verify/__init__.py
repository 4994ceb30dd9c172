"""Verification: the server decides liveness and identity from the frames it receives."""
