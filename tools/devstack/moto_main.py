"""moto server whose KMS keys survive a restart (local development only).

moto keeps everything in memory and draws key material from ``os.urandom``, so a restarted
moto would have new keys: templates and anything else envelope-encrypted under the old data key
would become unreadable, and the pinned server key would change at every start. This launcher
runs moto's own server in-process and, on shutdown, writes the KMS keys (ids, material, aliases)
to ``<state>/kms-keys.json`` (mode 0600, under the git-ignored ``.dev/``); at start it restores
them before serving. S3 is not persisted: the stack re-publishes the models at every start.

Run by the devstack as ``python -m devstack.moto_main STATE_DIR PORT``; stopped by its pid.
These are local throw-away keys; production keys live in AWS KMS and never leave it.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from moto.kms.models import kms_backends
from moto.server import ThreadedMotoServer

ACCOUNT = "123456789012"
REGION = "us-east-1"


def save(backend: Any, path: Path) -> None:
    """Write every KMS key with its material and aliases."""
    keys = []
    for key in backend.keys.values():
        private = getattr(key.private_key, "private_key", None)
        keys.append(
            {
                "id": key.id,
                "key_spec": key.key_spec,
                "key_usage": key.key_usage,
                "description": key.description,
                "key_material": base64.b64encode(key.key_material).decode(),
                "private_key": private.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode()
                if private is not None
                else None,
                "aliases": sorted(key.aliases),
            }
        )
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(keys))
    tmp.chmod(0o600)
    tmp.replace(path)


def restore(backend: Any, path: Path) -> None:
    """Re-create saved keys with their ids, material and aliases."""
    if not path.exists():
        return
    for saved in json.loads(path.read_text()):
        key = backend.create_key(
            policy=None,
            key_usage=saved["key_usage"],
            key_spec=saved["key_spec"],
            description=saved["description"],
            tags=None,
        )
        backend.keys.pop(key.id)
        key.id = saved["id"]
        key.arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key.id}"
        key.key_material = base64.b64decode(saved["key_material"])
        if saved["private_key"]:
            key.private_key.private_key = serialization.load_pem_private_key(
                saved["private_key"].encode(), password=None
            )
        backend.keys[key.id] = key
        for alias in saved["aliases"]:
            backend.create_alias(key.id, alias)


def main() -> int:
    state, port = Path(sys.argv[1]), int(sys.argv[2])
    path = state / "kms-keys.json"
    backend = kms_backends[ACCOUNT][REGION]
    restore(backend, path)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"moto on 127.0.0.1:{port}, pid {os.getpid()}", flush=True)
    while not stop.wait(5.0):
        save(backend, path)  # also periodically, so a crash loses at most a few seconds
    save(backend, path)
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
