"""Examples of using SecureFace (not part of the deployed service)."""
