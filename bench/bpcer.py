"""BPCER of one live (simulated) person on a larger sample than ``bench/liveness.py``: the
astronaut at one screen share, N bursts, each for a fresh challenge, in-process; prints the
refusal rate and what refused them.

    SECUREFACE_BENCH_BPCER_N=40 SECUREFACE_BENCH_SHARE=0.3 .venv/bin/python -m bench.bpcer
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from facesynth.models import face_engine
from livesim import bursts, people
from secureface.sessions.challenge import new_challenge
from secureface.verify.burst import assess_burst

Row = tuple[str, str, str, str]
FIRST_SEED = 200


def run() -> list[Row]:
    count = int(os.environ.get("SECUREFACE_BENCH_BPCER_N", "40"))
    share = float(os.environ.get("SECUREFACE_BENCH_SHARE", "0.3"))
    engine, photo, refused = face_engine(), people.astronaut(), Counter[str]()
    with ThreadPoolExecutor(2) as pool:
        for seed in range(FIRST_SEED, FIRST_SEED + count):
            challenge = new_challenge("light")
            burst = bursts.genuine_burst(photo, challenge, seed=seed, screen_share=share)
            verdict = assess_burst(engine, challenge, burst.frames, burst.times_ms, mapper=pool.map)
            if not verdict.passed:
                refused[verdict.reason] += 1
    total = sum(refused.values())
    return [
        (
            f"BPCER, astronaut at {share:.0%} screen share ({count} bursts, seeds {FIRST_SEED}+)",
            f"{total} of {count} ({total / count:.1%})",
            "≤ 5 %",
            "refused as: " + (", ".join(f"{r} {n}" for r, n in refused.items()) or "-"),
        )
    ]


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
