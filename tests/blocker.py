"""A fresh interpreter in which some packages cannot be imported: what a Lambda function without
a layer, or an adopter with only the base install, has (tests/unit/test_function_imports.py,
tests/unit/test_packaging.py)."""

from __future__ import annotations

from collections.abc import Iterable


def blocker(blocked: Iterable[str], why: str) -> str:
    """Python source that makes importing any of the top-level packages ``blocked`` fail with
    ``ModuleNotFoundError`` naming ``why``; run it first in ``python -c``."""
    names = sorted(set(blocked))
    return f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {names!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} ({why})")
        return None
sys.meta_path.insert(0, Block())
"""
