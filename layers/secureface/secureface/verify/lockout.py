"""Attempt limits: repeated failures lock a subject and a client for a while.

AWS's guidance for its own Face Liveness: 5 failures within 3 minutes lock for 30-60 minutes.
Both the subject id and the client (source address) are counted, so one attacker cannot try many
subjects, nor many attackers one subject, without tripping a lock. Unknown subjects count too,
so a lock says nothing about whether a subject is enrolled.
"""

from __future__ import annotations

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


def register_failure_at(
    store: AttemptStore, keys: tuple[str, ...], now: int, policy: LockoutPolicy
) -> bool:
    """Count a failure on every key; lock those over the limit. Whether any lock was set."""
    locked = False
    for key in keys:
        if store.record_failure(key, now, policy.window_s) >= policy.max_failures:
            store.lock(key, now + policy.lock_s)
            locked = True
    return locked
