"""Virtual people authenticating at once against a running local stack (locust, headless).

Run by ``python -m bench.load`` (which starts the stack, or takes one with ``--stack``), not
directly. Each virtual person is a browser of its own (its own source address on 127/8) doing
what the hosted page and the relying party do, every request timed as its route:

- ``sign_in`` (weight 4): a new customer is enrolled (admin route), the bank starts a
  transaction, the page downloads the browser's models (or has them in its HTTP cache: half
  the time), opens the verify session, captures a live burst that answers this session's
  light and moves (livesim, rendered in a real thread), sends it; the bank redeems the result
  and checks it. A new customer per sign-in: the simulated person's bursts resemble each other
  more than a real person's, and a second login could be refused as a replay.
- ``attack`` (weight 2): an animated photo of one shared victim, sent from this person's own
  address; it must never be verified, and after the lockout's limit every attempt on the
  victim must be answered ``locked`` without analysis (the bench counts them in the audit).

Every decided attempt is written to ``SECUREFACE_LOAD_OUT`` (JSON lines) for the bench's
checks; the stack's info comes from ``SECUREFACE_LOAD_STACK`` (its ``ready.json``).
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gevent
from locust import User, constant, task

from devstack.clients import browser
from devstack.seed import demo_face_png
from livesim import bursts, people
from secureface.client import AdminClient, ApiError, SecureFaceClient, browser_models
from secureface.encoding import b64url_encode
from secureface.rp import RelyingPartyClient

STACK: dict[str, Any] = json.loads(Path(os.environ["SECUREFACE_LOAD_STACK"]).read_text())
OUT = Path(os.environ["SECUREFACE_LOAD_OUT"])
VICTIM = os.environ["SECUREFACE_LOAD_VICTIM"]
API = STACK["urls"]["api"]  # the admin route (execute-api, SigV4)
WEB = STACK["urls"]["web"]  # the public origin: the page, the browser's and the bank's API
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
    os.environ[_name] = STACK["env"][_name]
_people = itertools.count(1)
_attackers = itertools.count(1)
T = TypeVar("T")


def _render(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """CPU-heavy work (a burst) in a real thread, so the other virtual people keep talking."""
    return gevent.get_hub().threadpool.apply(fn, args, kwargs)  # type: ignore[no-any-return]


def _browser(address: str) -> SecureFaceClient:
    """A browser configured by the stack (its two pinned keys) at ``address``."""
    return browser(STACK, address)


class Person(User):
    """One person at one browser, again and again."""

    wait_time = constant(0.2)

    def on_start(self) -> None:
        n = next(_people)
        self.browser = _browser(f"127.0.{20 + n // 250}.{n % 250 + 1}")
        party = STACK["relying_parties"]["demo-bank"]
        self.bank = RelyingPartyClient(WEB, "demo-bank", party["client_secret"])
        self.return_url = party["return_url"]

    def timed(self, name: str, call: Callable[[], T]) -> T:
        """Run one request as route ``name`` in locust's statistics."""
        started = time.perf_counter()
        error: Exception | None = None
        try:
            return call()
        except Exception as exc:
            error = exc
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            self.environment.events.request.fire(
                request_type="HTTP", name=name, response_time=elapsed_ms,
                response_length=0, exception=error, context={},
            )  # fmt: skip

    def _start(self, subject: str) -> tuple[Any, str]:
        nonce = secrets.token_urlsafe(24)
        started = self.timed(
            "POST /v1/transactions",
            lambda: self.bank.start(
                subject=subject, nonce=nonce, state=secrets.token_urlsafe(12),
                return_url=self.return_url,
            ),
        )  # fmt: skip
        return started, nonce

    def _verify(
        self, kind: str, subject: str, started: Any, burst_of: Callable[..., Any], browser: Any
    ) -> str:
        session = self.timed("POST /session", lambda: browser.open_session(started.client_token))
        burst = _render(burst_of, session.transcript.challenge)
        try:
            answer = self.timed(
                "POST /verify",
                lambda: browser.verify(
                    session, list(burst.frames), list(burst.times_ms),
                    transaction_id=started.transaction_id,
                ),
            )  # fmt: skip
        except ApiError as exc:
            _record(kind, subject, session.session_id, f"http_{exc.status}")
            raise
        _record(kind, subject, session.session_id, answer.decision)
        return answer.decision

    @task(4)
    def sign_in(self) -> None:
        subject = f"load-{os.getpid()}-{next(_people)}-{time.time_ns()}"
        self.timed(
            "POST /admin/enrollments",
            lambda: AdminClient(API).call(
                "POST", "/admin/enrollments",
                {"subject_id": subject, "images": [b64url_encode(demo_face_png())]},
            ),
        )  # fmt: skip
        started, nonce = self._start(subject)
        if secrets.randbelow(2):  # not in the browser's HTTP cache: download and check them
            manifest = self.timed("GET /models/manifest", self.browser.fetch_manifest)
            models = self.timed(
                "POST /session (models)",
                lambda: self.browser.open_session(started.client_token, purpose="models"),
            )
            for entry in browser_models(manifest):
                self.timed(
                    "GET /models/{name}/{version}/segments",
                    lambda e=entry: self.browser.fetch_model(models, e),  # type: ignore[misc]
                )
        decision = self._verify(
            "genuine", subject, started,
            lambda ch: bursts.genuine_burst(
                people.astronaut(), ch, seed=secrets.randbelow(2**31), screen_share=0.3
            ),
            self.browser,
        )  # fmt: skip
        result = self.timed(
            "GET /v1/transactions/{id}",
            lambda: self.bank.redeem_and_verify(
                started.transaction_id, nonce=nonce, subject=subject
            ) if decision == "verified" else self.bank.redeem(started.transaction_id),
        )  # fmt: skip
        del result

    @task(2)
    def attack(self) -> None:
        """From a new address every time (the lockout per address must not be what stops it:
        the victim's own lock must)."""
        n = next(_attackers)
        attacker = _browser(f"127.0.{100 + n // 250}.{n % 250 + 1}")
        started, _ = self._start(VICTIM)
        decision = self._verify(
            "attack", VICTIM, started,
            lambda ch: bursts.animated_photo_burst(
                people.astronaut(), ch, seed=secrets.randbelow(2**31)
            ),
            attacker,
        )  # fmt: skip
        if decision == "verified":
            self.environment.events.request.fire(
                request_type="CHECK", name="attack verified", response_time=0,
                response_length=0, exception=AssertionError("an attack was verified"), context={},
            )  # fmt: skip


def _record(kind: str, subject: str, session_id: str, outcome: str) -> None:
    line = {"kind": kind, "subject": subject, "session_id": session_id, "outcome": outcome}
    with OUT.open("a") as out:
        out.write(json.dumps(line) + "\n")
