"""The cross-language test vectors in ``tests/vectors/``, written from the Python modules that
own each format (deterministic: fixed keys, RFC 6979 signatures, rounded numbers)::

    .venv/bin/python -m vectors          # rewrite every file
    .venv/bin/python -m vectors --check  # exit 1 naming each stale file

pytest checks the Python side against them (``tests/vectors``, ``tests/unit``) and
``frontend/test`` the JavaScript side.

- :mod:`vectors.protocol`: ``protocol.json``, every wire format (PROTOCOL.md).
- :mod:`vectors.browser`: ``face.json``, ``verify.json``, ``challenge.json``, what the page
  computes (the face pipeline's port, the verify request and answer, the challenge).
- :mod:`vectors.constants`: ``constants.json``, labels, limits, sizes and patterns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "vectors"


def outputs() -> list[tuple[Path, Callable[[], dict[str, Any]], int]]:
    """``(file, builder, JSON indent)`` of every vectors file."""
    from vectors import browser, constants, protocol

    return [
        (OUT / "protocol.json", protocol.build, 2),
        (OUT / "face.json", browser.face_vectors, 1),
        (OUT / "verify.json", browser.verify_vectors, 1),
        (OUT / "challenge.json", browser.challenge_vectors, 1),
        (OUT / "constants.json", constants.constants, 2),
    ]


def render(build: Callable[[], dict[str, Any]], indent: int) -> str:
    return json.dumps(build(), indent=indent) + "\n"
