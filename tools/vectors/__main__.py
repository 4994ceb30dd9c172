"""``python -m vectors [--check]``: rewrite (or check) every file in ``tests/vectors/``."""

from __future__ import annotations

import argparse
import sys

from vectors import outputs, render


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m vectors", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args()
    stale = 0
    for path, build, indent in outputs():
        text = render(build, indent)
        if args.check:
            if not path.exists() or path.read_text() != text:
                print(f"{path} is stale: run python -m vectors", file=sys.stderr)
                stale = 1
            continue
        path.write_text(text)
        print(f"wrote {path} ({len(text)} bytes)")
    return stale


if __name__ == "__main__":
    sys.exit(main())
