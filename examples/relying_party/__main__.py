"""``python -m examples.relying_party --port 8090 --public-url http://127.0.0.1:8090
--api http://127.0.0.1:3000 --client-id demo-bank --secret-file PATH [--issuer URL]``

The secret file is JSON ``{"client_secret": "…"}`` (the local stack writes it, mode 0600). The
secret is never printed or logged. Serves until SIGINT or SIGTERM, then exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
import threading
from pathlib import Path
from types import FrameType

from examples.relying_party.app import serve


def read_secret(path: Path) -> str:
    """The client secret in ``path`` (ValueError naming the file, never its content)."""
    try:
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            print(f"[demo-bank] warning: {path} is readable by others (chmod 600)", file=sys.stderr)
        secret = json.loads(path.read_text(encoding="utf-8"))["client_secret"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(f"cannot read a client secret from {path}") from None
    if not isinstance(secret, str) or not secret:
        raise ValueError(f"cannot read a client secret from {path}")
    return secret


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.relying_party", description="Demo Bank, a SecureFace relying party"
    )
    parser.add_argument("--port", type=int, default=8090, help="0 = any free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--public-url", default="", help="where browsers reach this bank")
    parser.add_argument("--api", required=True, help="the SecureFace API's base URL")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--secret-file", type=Path, required=True, help='JSON {"client_secret"}')
    parser.add_argument("--issuer", default="", help="the results' iss (default: --api)")
    args = parser.parse_args(argv)
    try:
        secret = read_secret(args.secret_file)
        server = serve(
            args.port, args.public_url, args.api, args.client_id, secret, args.issuer,
            host=args.host,
        )  # fmt: skip
    except (ValueError, OSError) as exc:
        print(f"[demo-bank] {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(f"[demo-bank] {server.bank.public_url} (pid {os.getpid()})", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
