"""The liveness check on rendered bursts with the real models, in-process, each attack against
the rule that exists to refuse it (the moves are fixed so that the other rules pass and the
rule under test decides). Rates over many seeds are in bench/liveness.py (docs/LIVENESS.md).

A genuine burst here is a 3-D head performing the moves AND reflecting this session's light in
time (tools/livesim); the attacks are everything that can be made without being in front of the
screen during the session.
"""

from __future__ import annotations

from functools import cache

import pytest

from facesynth.models import face_engine
from livesim import bursts, people
from livesim.challenges import seeded_challenge
from secureface.sessions.challenge import Challenge
from secureface.verify.burst import BurstVerdict, assess_burst

TURNS = ("left", "up", "right")
NODS = ("up", "down", "up")


def decide(challenge: Challenge, burst: bursts.Burst) -> BurstVerdict:
    return assess_burst(face_engine(), challenge, burst.frames, burst.times_ms)


@cache
def challenge(seed: int, moves: tuple[str, ...] = TURNS) -> Challenge:
    return seeded_challenge(seed, moves=moves)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_live_person_lit_by_this_sessions_light_passes(seed: int) -> None:
    c = challenge(seed)
    verdict = decide(c, bursts.genuine_burst(people.astronaut(), c, seed=seed))
    assert verdict.passed, verdict.detail
    assert verdict.probe is not None and len(verdict.prints) >= 5


def test_a_photo_animated_in_advance_does_the_moves_but_carries_no_light() -> None:
    c = challenge(4)
    verdict = decide(c, bursts.animated_photo_burst(people.astronaut(), c, seed=4))
    assert verdict.reason == "light_not_reflected", verdict.detail
    assert "moves" not in verdict.reason  # the moves themselves were performed


def test_a_live_recording_of_another_session_carries_the_wrong_light() -> None:
    c, other = challenge(5), challenge(6)
    recording = bursts.genuine_burst(people.astronaut(), other, seed=5)
    assert decide(other, recording).passed  # it was genuine where it was recorded
    verdict = decide(c, bursts.replayed_burst(recording, c))
    assert verdict.reason == "light_not_reflected", verdict.detail


def test_a_flat_print_in_front_of_the_screen_reflects_the_light_but_is_flat() -> None:
    c = challenge(7, NODS)
    verdict = decide(c, bursts.flat_print_burst(people.astronaut(), c, seed=7))
    assert verdict.reason == "flat", verdict.detail
    assert "decoded 1.00" in verdict.detail or "light:" in verdict.detail  # the light passed


def test_a_tint_over_the_whole_frame_is_refused_as_uniform() -> None:
    c = challenge(8)
    verdict = decide(c, bursts.tint_burst(people.astronaut(), c, seed=8))
    assert verdict.reason == "uniform_tint", verdict.detail


def test_a_screen_replaying_an_animation_reflects_too_little_light() -> None:
    c = challenge(9)
    verdict = decide(c, bursts.screen_replay_burst(people.astronaut(), c, seed=9))
    assert verdict.reason in ("light_not_reflected", "uniform_tint"), verdict.detail


def test_a_relay_adding_delay_brings_the_light_too_late() -> None:
    c = challenge(10)
    verdict = decide(c, bursts.delayed_burst(people.astronaut(), c, seed=10, delay_ms=600.0))
    assert verdict.reason == "light_not_reflected", verdict.detail


def test_a_subsampled_burst_fails_the_timing() -> None:
    c = challenge(11)
    genuine = bursts.genuine_burst(people.astronaut(), c, seed=11)
    assert decide(c, bursts.subsampled_burst(genuine, keep_every=3)).reason == "timing"


def test_another_person_taking_over_is_refused() -> None:
    c = challenge(12)
    burst = bursts.swapped_person_burst(people.astronaut(), people.group_face(1), c, seed=12)
    verdict = decide(c, burst)
    assert not verdict.passed
    # the swap is refused whichever rule sees it first: the new face's moves, its skin's colour
    # (a jump the light fit cannot absorb), the jump itself, or its identity
    assert verdict.reason in (
        "identity_changed", "discontinuity", "light_not_reflected", "moves_not_followed",
    )  # fmt: skip
