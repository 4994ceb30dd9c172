"""``python -m devstack up``: run the local stack until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from devstack import procs
from devstack.functions import REPO
from devstack.stack import Ports, Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--state-dir", type=Path, default=REPO / ".dev")
    parser.add_argument("--api-port", type=int, default=3000)
    parser.add_argument("--web-port", type=int, default=8080)
    parser.add_argument("--moto-port", type=int, default=5010)
    parser.add_argument("--mongo-port", type=int, default=27018)
    parser.add_argument("--rp-port", type=int, default=8090, help="the example relying party")
    parser.add_argument("--mongo-uri", default="", help="use this MongoDB instead of starting one")
    parser.add_argument("--mongo-db", default="secureface", help="database name")
    parser.add_argument(
        "--mongo-users",
        action="store_true",
        help="with --mongo-uri (a user administrator): one MongoDB user per function, each "
        "with only its collections (a MongoDB with access control, as in GitHub Actions)",
    )
    parser.add_argument(
        "--faults",
        action="store_true",
        help="put fault proxies between the functions and MongoDB / moto, switched through a "
        "control endpoint (tests/faults; devstack.faults)",
    )
    parser.add_argument("--ready-file", type=Path, help="write the stack's info here when ready")
    args = parser.parse_args(argv)
    if args.mongo_users and not args.mongo_uri:
        parser.error("--mongo-users needs --mongo-uri (the local wire server has no users)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stack = Stack(
        state_dir=args.state_dir.resolve(),
        ports=Ports(args.api_port, args.web_port, args.moto_port, args.mongo_port, args.rp_port),
        mongo_uri=args.mongo_uri,
        mongo_db=args.mongo_db,
        mongo_users=args.mongo_users,
        faults=args.faults,
    )
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        info = stack.info()
        (stack.state_dir / "server-key.pem").write_text(str(info["public_key_pem"]))
        (stack.state_dir / "manifest-key.pem").write_text(str(info["manifest_public_key_pem"]))
        if args.ready_file:
            procs.write_whole(args.ready_file, json.dumps(info, indent=2))
        print_banner(info)
        while not stopping.wait(0.5):
            pass
    finally:
        stack.stop()
        print("stopped every process started (by pid)", flush=True)
    return 0


def print_banner(info: dict[str, object]) -> None:
    urls = info["urls"]
    assert isinstance(urls, dict)
    print(
        "\nSecureFace local stack is up\n"
        f"  try it    {urls['rp']}   (Demo Bank: sign in as 'demo' with your face)\n"
        f"  app       {urls['web']}   (the hosted flow; its API under the same origin, as "
        f"CloudFront serves it: try {urls['web']}/models/manifest)\n"
        f"  api       {urls['api']}   (execute-api: the admin routes, SigV4)\n"
        f"  aws(moto) {urls['aws']}\n"
        f"  mongodb   {urls['mongo']}\n"
        f"  server public key (pinned by clients; sessions):\n{info['public_key_pem']}"
        f"  manifest public key (pinned by clients; models):\n{info['manifest_public_key_pem']}"
        "Ctrl-C stops everything.",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
