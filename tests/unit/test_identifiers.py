"""Every identifier check matches the whole string: Python's ``$`` also matches before a final
newline, so an anchored ``re.match`` would let ``"demo\\n"`` through as a subject id (found by
review of the example relying party); each check below must refuse it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from secureface.encoding import b64url_decode
from secureface.errors import BadRequestError, SecureFaceError
from secureface.models.manifest import NAME_RE, SHA256_RE, VERSION_RE
from secureface.sessions.service import SESSION_ID_RE
from secureface.transactions.model import (
    CLIENT_ID_RE,
    ID_RE,
    NONCE_RE,
    STATE_RE,
    TOKEN_RE,
)
from secureface.transactions.service import checked_token
from secureface.verify.request import SUBJECT_RE, check_subject_id

PATTERNS = {
    "subject": (SUBJECT_RE, "demo"),
    "session id": (SESSION_ID_RE, "A" * 22),
    "transaction id": (ID_RE, "A" * 22),
    "client token": (TOKEN_RE, "A" * 43),
    "nonce": (NONCE_RE, "n" * 16),
    "state": (STATE_RE, "s"),
    "client id": (CLIENT_ID_RE, "demo-bank"),
    "model name": (NAME_RE, "yunet"),
    "model version": (VERSION_RE, "2023mar"),
    "sha256": (SHA256_RE, "0" * 64),
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_a_trailing_newline_never_matches(name: str) -> None:
    pattern, good = PATTERNS[name]
    assert pattern.fullmatch(good)
    for bad in (good + "\n", good + "\r\n", "\n" + good):
        assert not pattern.fullmatch(bad)


CHECKS: dict[str, tuple[Callable[[str], Any], str, type[SecureFaceError]]] = {
    "subject": (check_subject_id, "demo", BadRequestError),
    "client token": (lambda t: checked_token({"client_token": t}), "A" * 43, BadRequestError),
    "b64url": (b64url_decode, "AAAA", BadRequestError),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_checks_refuse_a_trailing_newline(name: str) -> None:
    check, good, error = CHECKS[name]
    check(good)
    with pytest.raises(error):
        check(good + "\n")
