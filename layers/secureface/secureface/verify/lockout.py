"""Attempt limits: repeated failures lock a subject and a client for a while, and no more
attempts are analysed at once than the limit allows.

AWS's guidance for its own Face Liveness: 5 failures within 3 minutes lock for 30-60 minutes.
Both the subject id and the client (source address) are counted, so one attacker cannot try many
subjects, nor many attackers one subject, without tripping a lock. Unknown subjects count too,
so a lock says nothing about whether a subject is enrolled.

**Reserved before analysis.** An attempt first takes a slot on every key, atomically (a
conditional update of one document per key: at most :attr:`LockoutPolicy.max_failures` slots
in the window, failures and attempts in flight alike), and only then is analysed; an attempt
that ends ``verified`` gives its slots back, any other outcome (a refusal, the deadline, an
error) keeps them as failures. So 20 concurrent attempts against a limit of 5 get exactly 5
analysed (tests/integration/test_verify.py), where a check-then-count design evaluated all 20.
A slot left by a crashed function frees itself when the window passes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from secureface.verify.records import AttemptStore


@dataclass(frozen=True)
class LockoutPolicy:
    """Failures allowed per window, and the lock that follows."""

    max_failures: int = 5
    window_s: int = 180
    lock_s: int = 1800


def attempt_keys(subject_id: str, client: str) -> tuple[str, str]:
    """The counters an attempt touches."""
    return (f"subject:{subject_id}", f"client:{client}")


def locked_at(store: AttemptStore, keys: tuple[str, ...], now: int) -> bool:
    """Whether any of ``keys`` is locked at ``now``."""
    return any(store.locked_until(key, now) is not None for key in keys)


def reserve_at(
    store: AttemptStore, keys: tuple[str, ...], now: int, policy: LockoutPolicy
) -> str | None:
    """Take a slot on every key for one attempt; its id, or ``None`` (locked, or as many
    attempts in flight and failures in the window as the limit: answer ``locked``, analyse
    nothing)."""
    if locked_at(store, keys, now):
        return None
    attempt_id = secrets.token_hex(12)
    taken: list[str] = []
    for key in keys:
        if not store.reserve(key, attempt_id, now, policy.window_s, policy.max_failures):
            for done in taken:
                store.release(done, attempt_id)
            return None
        taken.append(key)
    return attempt_id


def settle_at(
    store: AttemptStore,
    keys: tuple[str, ...],
    attempt_id: str,
    now: int,
    policy: LockoutPolicy,
    *,
    verified: bool,
) -> bool:
    """End a reserved attempt: ``verified`` gives the slots back; anything else keeps them as
    failures and locks every key that reached the limit. Whether a lock was set."""
    if verified:
        for key in keys:
            store.release(key, attempt_id)
        return False
    locked = False
    for key in keys:
        if store.count(key, now, policy.window_s) >= policy.max_failures:
            store.lock(key, now + policy.lock_s)
            locked = True
    return locked
