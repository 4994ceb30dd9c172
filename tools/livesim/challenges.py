"""Challenges drawn from a seed (tests and benches need them reproducible; the server draws its
own with :mod:`secrets`). Same rules as :func:`secureface.sessions.challenge.new_challenge`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from secureface.sessions.challenge import (
    CENTER,
    DIRECTIONS,
    LIGHT_MAX_MS,
    LIGHT_MIN_MS,
    LIGHT_STEP_MS,
    MODE_LIGHT,
    MOVE_COUNT,
    MOVE_MS,
    PALETTE,
    Challenge,
)


def _pick(rng: np.random.Generator, options: Sequence[str], avoid: str | None) -> str:
    choices = [o for o in options if o != avoid]
    return choices[int(rng.integers(len(choices)))]


def seeded_challenge(
    seed: int, *, moves: Sequence[str] | None = None, move_ms: int = MOVE_MS
) -> Challenge:
    """A light-mode challenge drawn from ``seed`` (``moves``: the three moves after ``center``,
    drawn when None).

    Raises:
        IntegrityError: ``moves`` break the challenge's rules.
    """
    rng = np.random.default_rng(seed)
    chosen = [CENTER]
    if moves is None:
        for _ in range(MOVE_COUNT):
            chosen.append(_pick(rng, DIRECTIONS, chosen[-1] if chosen[-1] != CENTER else None))
    else:
        chosen.extend(moves)
    capture_ms = move_ms * len(chosen)
    steps = (LIGHT_MAX_MS - LIGHT_MIN_MS) // LIGHT_STEP_MS + 1
    colours: list[str] = []
    durations: list[int] = []
    while sum(durations) < capture_ms:
        colours.append(_pick(rng, tuple(PALETTE), colours[-1] if colours else None))
        durations.append(LIGHT_MIN_MS + LIGHT_STEP_MS * int(rng.integers(steps)))
    durations[-1] -= sum(durations) - capture_ms
    if durations[-1] < LIGHT_MIN_MS:
        last = durations.pop()
        durations[-1] += last
        colours.pop()
    challenge = Challenge(
        mode=MODE_LIGHT,
        moves=tuple(chosen),
        move_ms=move_ms,
        light=tuple(zip(colours, durations, strict=True)),
    )
    challenge.check()
    return challenge
