"""The liveness challenge the server chooses for each session (signed in the transcript).

A challenge has two parts, both drawn from :mod:`secrets` and both re-read by the server from its
own session record when it decides (never from what the client says it showed):

- **moves**: ``center`` followed by :data:`MOVE_COUNT` moves, each one of ``left``, ``right``,
  ``up``, ``down`` and never the same as the one before (4 x 3 x 3 = 36 sequences, 5.2 bits).
  Move ``i`` (``center`` is move 0) is prompted during ``[i * MOVE_MS, (i + 1) * MOVE_MS)`` of
  the capture: the person turns toward the direction and comes back. Directions are the
  person's own: ``left`` = toward THEIR left (in the unmirrored camera image the nose moves to
  the image's right); ``up`` = chin up.
- **light**: the colours the page shows over most of the screen during the capture, as
  ``(colour, duration_ms)`` intervals that exactly cover ``[0, capture_ms)``. Each colour is one
  of :data:`PALETTE` and differs from the one before; each duration is a multiple of
  :data:`LIGHT_STEP_MS` in ``[LIGHT_MIN_MS, LIGHT_MAX_MS]`` (the last one may be up to
  ``LIGHT_MIN_MS`` longer so the schedule ends with the capture). With the default 6 s capture
  that is at least :data:`MIN_INTERVALS` intervals of 6 colours: 6 x 5^7, over 18 bits from the
  colours alone, and about 3 bits more per interval from the durations.

Photosensitivity (WCAG 2.3.1 "three flashes or below threshold"): every colour lasts at least
``LIGHT_MIN_MS`` = 350 ms, so there are at most 2.9 transitions, i.e. fewer than 1.5 flashes, in
any one second, general and red alike. The page warns before it starts, and an operator may allow
the motion-only mode (:data:`MODE_MOTION`, an empty light schedule), which is a lower assurance
level and is stated as such in the result.

Time zero of the capture is when the page paints the first colour; every frame carries its
capture time in ms relative to it (:mod:`secureface.verify.request`).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secureface.errors import IntegrityError

#: The first move of every challenge: look at the camera (the frames matched to the template).
CENTER = "center"
#: The moves a challenge draws from (the person's own directions).
DIRECTIONS = ("left", "right", "up", "down")
#: How many moves follow ``center``.
MOVE_COUNT = 3
#: Time given to each move (including ``center``), ms.
MOVE_MS = 1500
#: The screen colours, as sRGB 0..255 (saturated primaries and secondaries).
PALETTE: Mapping[str, tuple[int, int, int]] = {
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "magenta": (255, 0, 255),
    "cyan": (0, 255, 255),
}
LIGHT_MIN_MS = 350
LIGHT_MAX_MS = 700
LIGHT_STEP_MS = 50
#: Fewest intervals a light schedule may have.
MIN_INTERVALS = 8
#: Assurance levels: light and motion (the default), or motion only (operator-enabled).
MODE_LIGHT = "light"
MODE_MOTION = "motion"
MODES = (MODE_LIGHT, MODE_MOTION)


@dataclass(frozen=True)
class Challenge:
    """One session's challenge.

    Attributes:
        mode: :data:`MODE_LIGHT` or :data:`MODE_MOTION`.
        moves: ``center`` then the moves, in order.
        move_ms: time given to each move.
        light: ``(colour, duration_ms)`` intervals covering the capture (empty in motion mode).
    """

    mode: str
    moves: tuple[str, ...]
    move_ms: int
    light: tuple[tuple[str, int], ...]

    @property
    def capture_ms(self) -> int:
        """Length of the capture: one ``move_ms`` per move."""
        return self.move_ms * len(self.moves)

    def move_window(self, index: int) -> tuple[int, int]:
        """``[start, end)`` in ms of move ``index``."""
        return index * self.move_ms, (index + 1) * self.move_ms

    def light_intervals(self) -> list[tuple[str, int, int]]:
        """``(colour, start_ms, end_ms)`` for every interval of the light schedule."""
        out, start = [], 0
        for colour, duration in self.light:
            out.append((colour, start, start + duration))
            start += duration
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "moves": list(self.moves),
            "move_ms": self.move_ms,
            "light": [[colour, duration] for colour, duration in self.light],
        }

    @classmethod
    def from_json(cls, raw: Any) -> Challenge:
        """Parse and check a challenge (from a transcript or a stored record).

        Raises:
            IntegrityError: malformed, or not a challenge this module could have drawn.
        """
        try:
            challenge = cls(
                mode=str(raw["mode"]),
                moves=tuple(str(m) for m in raw["moves"]),
                move_ms=int(raw["move_ms"]),
                light=tuple((str(c), int(d)) for c, d in raw["light"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IntegrityError(reason="malformed challenge") from exc
        challenge.check()
        return challenge

    def check(self) -> None:
        """Raises IntegrityError unless this is a well-formed challenge."""
        moves_ok = (
            len(self.moves) == MOVE_COUNT + 1
            and self.moves[0] == CENTER
            and all(m in DIRECTIONS for m in self.moves[1:])
            and all(a != b for a, b in zip(self.moves, self.moves[1:], strict=False))
        )
        if self.mode not in MODES or not moves_ok or not 500 <= self.move_ms <= 5000:
            raise IntegrityError(reason="challenge moves or mode out of range")
        if self.mode == MODE_MOTION:
            if self.light:
                raise IntegrityError(reason="motion-only challenge with a light schedule")
            return
        colours = [c for c, _ in self.light]
        durations = [d for _, d in self.light]
        light_ok = (
            len(self.light) >= MIN_INTERVALS
            and all(c in PALETTE for c in colours)
            and all(a != b for a, b in itertools.pairwise(colours))
            and all(LIGHT_MIN_MS <= d <= LIGHT_MAX_MS + LIGHT_MIN_MS for d in durations)
            and sum(durations) == self.capture_ms
        )
        if not light_ok:
            raise IntegrityError(reason="light schedule out of range")


def _draw(options: Sequence[str], avoid: str | None) -> str:
    choices = [o for o in options if o != avoid]
    return choices[secrets.randbelow(len(choices))]


def new_moves() -> tuple[str, ...]:
    """``center`` and :data:`MOVE_COUNT` random moves, none equal to the one before."""
    moves = [CENTER]
    for _ in range(MOVE_COUNT):
        moves.append(_draw(DIRECTIONS, moves[-1] if moves[-1] != CENTER else None))
    return tuple(moves)


def new_light_schedule(capture_ms: int) -> tuple[tuple[str, int], ...]:
    """Random colour intervals exactly covering ``capture_ms`` (see the module docstring)."""
    steps = (LIGHT_MAX_MS - LIGHT_MIN_MS) // LIGHT_STEP_MS + 1
    colours: list[str] = []
    durations: list[int] = []
    while sum(durations) < capture_ms:
        colours.append(_draw(tuple(PALETTE), colours[-1] if colours else None))
        durations.append(LIGHT_MIN_MS + LIGHT_STEP_MS * secrets.randbelow(steps))
    excess = sum(durations) - capture_ms
    durations[-1] -= excess
    if durations[-1] < LIGHT_MIN_MS:  # too short to show: give it to the interval before
        last = durations.pop()
        durations[-1] += last
        colours.pop()
    return tuple(zip(colours, durations, strict=True))


def new_challenge(mode: str = MODE_LIGHT, move_ms: int = MOVE_MS) -> Challenge:
    """A fresh challenge for one session."""
    moves = new_moves()
    light = new_light_schedule(move_ms * len(moves)) if mode == MODE_LIGHT else ()
    challenge = Challenge(mode=mode, moves=moves, move_ms=move_ms, light=light)
    challenge.check()
    return challenge
