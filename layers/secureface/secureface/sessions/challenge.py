"""The liveness challenge the server chooses for each session (signed in the transcript).

A challenge is a short sequence of head poses: a frontal frame (used for matching) and turns to
both sides in a random order, so a recording made for another session does not fit.
"""

from __future__ import annotations

import secrets

STEPS = ("center", "turn_left", "turn_right")


def new_challenge() -> tuple[str, ...]:
    """``center`` followed by both turns in a random order."""
    turns = ["turn_left", "turn_right"]
    if secrets.randbelow(2):
        turns.reverse()
    return ("center", *turns)
