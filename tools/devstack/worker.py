"""One emulated Lambda instance: loads a handler and answers events read from stdin.

Run by :mod:`devstack.localapi` as ``python -m devstack.worker CODE_DIR HANDLER FD``. Each line
on stdin is a JSON event; each answer is one JSON line written to file descriptor ``FD`` (stdout
and stderr stay free for the function's own logs, as in CloudWatch). Like the real runtime, the
code directory is importable and the module is imported once (cold start), then reused.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any


class Context:
    """The attributes of a Lambda context object that handlers and Powertools read."""

    def __init__(self, name: str, memory_mb: int, timeout_s: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load(code_dir: Path, handler: str) -> Any:
    module_name, func_name = handler.rsplit(".", 1)
    sys.path.insert(0, str(code_dir))  # what the Lambda runtime does with /var/task
    spec = importlib.util.spec_from_file_location(module_name, code_dir / f"{module_name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {handler} from {code_dir}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return getattr(module, func_name)


def trace_mongo_commands(path: str, function: str) -> None:
    """Record which command each MongoDB request of this function ran, on which collection
    (never a document): the integration tests check them against each function's role
    (:mod:`secureface.adapters.mongo_access`), as a MongoDB with access control would."""
    from pymongo import monitoring

    trace = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    class Listener(monitoring.CommandListener):
        def started(self, event: monitoring.CommandStartedEvent) -> None:
            command = event.command
            record = {
                "function": function, "db": event.database_name, "cmd": event.command_name,
                "coll": str(command.get(event.command_name, "")),
                "upsert": bool(command.get("upsert"))
                or any(u.get("upsert") for u in command.get("updates", [])),
                "remove": bool(command.get("remove")),
            }  # fmt: skip
            trace.write(json.dumps(record) + "\n")

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            pass

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            pass

    monitoring.register(Listener())


def main() -> None:
    code_dir, handler_name, fd = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    out = os.fdopen(fd, "w", buffering=1)
    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", code_dir.name)
    if trace := os.environ.get("SECUREFACE_DEVSTACK_MONGO_TRACE"):
        trace_mongo_commands(trace, name)
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    timeout = int(os.environ.get("SECUREFACE_LOCAL_TIMEOUT_S", "30"))
    handler = _load(code_dir, handler_name)
    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        try:
            result = {"response": handler(json.loads(line), Context(name, memory, timeout))}
        except Exception as exc:  # the runtime reports a function error, as Lambda does
            traceback.print_exc()
            result = {"error": type(exc).__name__}
        out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
