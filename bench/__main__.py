"""``python -m bench``: run every benchmark and print one table."""

from __future__ import annotations

import os
import platform
import sys

from bench import accuracy, channel, liveness, verify_api, verify_pipeline


def main() -> int:
    rows = (
        channel.run() + verify_pipeline.run() + verify_api.run() + liveness.run() + accuracy.run()
    )
    widths = [
        max(len(r[i]) for r in [*rows, ("what", "measured", "target", "baseline")])
        for i in range(4)
    ]
    header = ("what", "measured", "target", "baseline (same run)")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for row in (header, tuple("-" * w for w in widths), *rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
