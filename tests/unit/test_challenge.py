"""The server's challenge: enough randomness, a light schedule that covers the capture without
flashing faster than WCAG 2.3.1 allows, and strict parsing of what comes back from storage."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from secureface.errors import IntegrityError
from secureface.sessions.challenge import (
    CENTER,
    DIRECTIONS,
    LIGHT_MIN_MS,
    MIN_INTERVALS,
    MODE_MOTION,
    PALETTE,
    Challenge,
    new_challenge,
)

DRAWS = 2000


@pytest.fixture(scope="module")
def drawn() -> list[Challenge]:
    return [new_challenge() for _ in range(DRAWS)]


def test_moves_start_at_center_and_never_repeat_the_move_before(drawn: list[Challenge]) -> None:
    for c in drawn:
        assert c.moves[0] == CENTER and len(c.moves) == 4
        assert all(m in DIRECTIONS for m in c.moves[1:])
        assert all(a != b for a, b in zip(c.moves, c.moves[1:], strict=False))


def test_every_move_sequence_occurs_so_the_motion_carries_over_five_bits(
    drawn: list[Challenge],
) -> None:
    sequences = Counter(c.moves for c in drawn)
    assert len(sequences) == 4 * 3 * 3
    assert math.log2(len(sequences)) > 5


def test_the_light_schedule_covers_the_capture_exactly(drawn: list[Challenge]) -> None:
    for c in drawn:
        assert sum(d for _, d in c.light) == c.capture_ms
        intervals = c.light_intervals()
        assert intervals[0][1] == 0 and intervals[-1][2] == c.capture_ms


def test_the_schedule_never_flashes_more_than_three_times_a_second(drawn: list[Challenge]) -> None:
    # WCAG 2.3.1: at most three flashes (pairs of opposing changes) in any one-second period.
    # Every colour lasts at least 350 ms, so any second holds at most 3 changes = 1.5 flashes.
    for c in drawn:
        changes = [start for _, start, _ in c.light_intervals()[1:]]
        for start in changes:
            window = [t for t in changes if start <= t < start + 1000]
            assert len(window) <= 3
        assert min(d for _, d in c.light) >= LIGHT_MIN_MS


def test_the_light_schedule_carries_at_least_twelve_bits(drawn: list[Challenge]) -> None:
    for c in drawn:
        assert len(c.light) >= MIN_INTERVALS
        assert all(a != b for (a, _), (b, _) in zip(c.light, c.light[1:], strict=False))
        # first colour 6 choices, each next one 5: log2(6 * 5 ** (n - 1)) bits from colours alone
        assert math.log2(6 * 5 ** (len(c.light) - 1)) >= 12
    assert {colour for c in drawn for colour, _ in c.light} == set(PALETTE)
    assert len({c.light for c in drawn}) == DRAWS


def test_a_challenge_round_trips_through_json(drawn: list[Challenge]) -> None:
    for c in drawn[:50]:
        assert Challenge.from_json(c.to_json()) == c


def test_the_motion_only_mode_has_no_light() -> None:
    c = new_challenge(MODE_MOTION)
    assert c.mode == MODE_MOTION and c.light == ()
    assert Challenge.from_json(c.to_json()) == c


def _edited(**changes: object) -> dict[str, object]:
    raw = new_challenge().to_json()
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    "raw",
    [
        _edited(mode="none"),
        _edited(moves=["left", "right", "up", "down"]),
        _edited(moves=["center", "left", "left", "up"]),
        _edited(moves=["center", "left", "sideways", "up"]),
        _edited(moves=["center", "left"]),
        _edited(move_ms=10),
        _edited(light=[["red", 6000]]),
        _edited(light=[["red", 300]] * 20),
        _edited(light=[["white", 750]] * 8),
        _edited(light=[["red", 750], ["red", 750]] * 4),
        _edited(mode="motion"),  # a motion-only challenge with a light schedule
        {"mode": "light"},
        [],
        None,
    ],
)
def test_malformed_challenges_are_integrity_errors(raw: object) -> None:
    with pytest.raises(IntegrityError):
        Challenge.from_json(raw)
