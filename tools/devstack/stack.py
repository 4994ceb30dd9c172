"""Start and stop the whole local stack; every child is tracked by pid in ``<state>/pids.json``."""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from devstack import procs
from devstack.aws import LOCAL_CREDENTIALS, Resources, create_resources, put_registry
from devstack.functions import REPO, FunctionPool
from devstack.localapi import Edge, LocalApi, frontend_server, make_server
from devstack.template import read_api

log = logging.getLogger(__name__)
BIN = Path(sys.executable).parent


def catalog_manifest_version() -> int:
    """``model_versions.json``'s ``manifest_version``: the functions' minimum manifest version."""
    from secureface.models.catalog import load_catalog

    return load_catalog(REPO / "model_versions.json").manifest_version


@dataclass
class Ports:
    """Ports on 127.0.0.1; 0 picks a free one."""

    api: int = 3000
    web: int = 8080
    moto: int = 5010
    mongo: int = 27018
    rp: int = 8090

    def resolve(self) -> Ports:
        ports = (self.api, self.web, self.moto, self.mongo, self.rp)
        free = iter(procs.free_ports(ports.count(0)))
        return Ports(*(p or next(free) for p in ports))


@dataclass
class Stack:
    """The running local stack."""

    state_dir: Path
    ports: Ports
    mongo_uri: str = ""
    mongo_db: str = "secureface"
    #: One MongoDB user per function (secureface.adapters.mongo_access), created with the
    #: ``mongo_uri`` credentials on a MongoDB that enforces access control (GitHub Actions).
    mongo_users: bool = False
    function_mongo_uris: dict[str, str] = field(default_factory=dict)
    children: list[Any] = field(default_factory=list)
    servers: list[ThreadingHTTPServer] = field(default_factory=list)
    pools: dict[str, FunctionPool] = field(default_factory=dict)
    resources: Resources | None = None
    relying_parties: dict[str, dict[str, str]] = field(default_factory=dict)
    registry_secret_id: str = ""
    #: A fault proxy (tools/faultproxy) between the functions and MongoDB and moto, switched
    #: through a control endpoint (devstack.faults); the stack's own setup goes direct.
    faults: bool = False
    #: The distribution's token (X-SecureFace-Edge), new at every start.
    edge_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    fault_control: Any = None
    _mongo_args: list[str] = field(default_factory=list)

    @property
    def urls(self) -> dict[str, str]:
        return {
            "api": f"http://127.0.0.1:{self.ports.api}",
            "web": f"http://127.0.0.1:{self.ports.web}",
            "aws": f"http://127.0.0.1:{self.ports.moto}",
            "mongo": self.mongo_uri,
            "rp": f"http://127.0.0.1:{self.ports.rp}",
        }

    def start(self) -> None:
        """Start every service, create resources, publish the models, serve API and frontend."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        stop_leftovers(self.state_dir)
        self.ports = self.ports.resolve()
        self._start_moto()
        self._start_mongo()
        if self.mongo_users:
            self._create_mongo_users()
        if self.faults:
            from devstack.faults import FaultControl

            self.fault_control = FaultControl(self)
        self.mongo_trace.parent.mkdir(parents=True, exist_ok=True)
        self.mongo_trace.write_text("")
        self._write_pids()
        os.environ.update(self.service_env())
        self.resources = create_resources(self.urls["aws"])
        self._register_relying_parties()
        os.environ.update(self.function_env())
        from devstack.seed import seed

        seed(self)
        self._serve()
        from devstack.seed import enroll_demo

        enroll_demo(self)
        self._start_example_rp()

    @property
    def mongo_trace(self) -> Path:
        """Every MongoDB command each function ran (name and collection only; devstack.worker)."""
        return self.state_dir / "logs" / "mongo-commands.jsonl"

    def _create_mongo_users(self) -> None:
        """A user per function with its own role (random passwords, new at every start), and
        each function's connection string naming its user."""
        import secrets
        from urllib.parse import quote

        from pymongo import MongoClient
        from pymongo.uri_parser import parse_uri

        from secureface.adapters.mongo_access import PRIVILEGES, apply, role_name

        passwords = {function: secrets.token_urlsafe(24) for function in PRIVILEGES}
        admin: MongoClient[dict[str, Any]] = MongoClient(self.mongo_uri)
        try:
            apply(admin, self.mongo_db, passwords)
        finally:
            admin.close()
        hosts = ",".join(f"{h}:{p}" for h, p in parse_uri(self.mongo_uri)["nodelist"])
        for function, password in passwords.items():
            user = quote(role_name(function), safe="")
            self.function_mongo_uris[function] = (
                f"mongodb://{user}:{quote(password, safe='')}@{hosts}/"
                f"?authSource={quote(self.mongo_db, safe='')}"
            )

    def _register_relying_parties(self) -> None:
        """The registry in moto's Secrets Manager: the example bank (served by
        :meth:`_start_example_rp`) and a second party tests use as another audience. Fresh
        secrets at every start, kept only in the state directory (mode 0600)."""
        from secureface.transactions.registry import new_client_secret

        rp = self.urls["rp"]
        parties = {
            "demo-bank": ("Demo Bank", [f"{rp}/callback"], f"{rp}/other-ways"),
            "other-portal": ("Other Portal", ["http://127.0.0.1:9/return"], ""),
        }
        entries = []
        for client_id, (name, return_urls, alternative) in parties.items():
            secret, digest = new_client_secret()
            self.relying_parties[client_id] = {
                "client_secret": secret,
                "return_url": return_urls[0],
            }
            entries.append(
                {"client_id": client_id, "name": name, "secret_sha256": digest,
                 "return_urls": return_urls, "alternative_url": alternative}
            )  # fmt: skip
        self.registry_secret_id = put_registry(self.urls["aws"], {"relying_parties": entries})
        for client_id, record in self.relying_parties.items():
            path = self.state_dir / f"rp-{client_id}.json"
            path.touch(mode=0o600)
            path.chmod(0o600)
            path.write_text(json.dumps({"client_secret": record["client_secret"]}))

    def _start_example_rp(self) -> None:
        """The example relying party (examples/relying_party), its own process and port."""
        args = [
            sys.executable, "-m", "examples.relying_party", "--port", str(self.ports.rp),
            "--public-url", self.urls["rp"], "--api", self.urls["web"],
            "--client-id", "demo-bank", "--secret-file", str(self.state_dir / "rp-demo-bank.json"),
        ]  # fmt: skip
        paths = [str(REPO), str(REPO / "layers" / "secureface")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        proc = procs.start(args, log_path=self.state_dir / "logs" / "example-rp.log", env=env)
        self.children.append(proc)
        self._write_pids()
        procs.wait_for_port(self.ports.rp, proc=proc)

    def _start_moto(self) -> None:
        args = [
            sys.executable,
            "-m",
            "devstack.moto_main",
            str(self.state_dir),
            str(self.ports.moto),
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO / "tools")}
        proc = procs.start(args, log_path=self.state_dir / "logs" / "moto.log", env=env)
        self.children.append(proc)
        procs.wait_for_port(self.ports.moto, proc=proc)

    def _start_mongo(self) -> None:
        if self.mongo_uri:
            return
        data = self.state_dir / "mongo"
        data.mkdir(parents=True, exist_ok=True)
        args = [
            str(BIN / "nx-27017"), "--host", "127.0.0.1", "-p", str(self.ports.mongo),
            "--data-dir", str(data), "--pid-file", str(self.state_dir / "nx-27017.pid"),
            "--log-file", str(self.state_dir / "logs" / "mongo.log"),
        ]  # fmt: skip
        self._mongo_args = args
        proc = procs.start(args, log_path=self.state_dir / "logs" / "mongo.out")
        self.children.append(proc)
        procs.wait_for_port(self.ports.mongo, proc=proc)
        self.mongo_uri = f"mongodb://127.0.0.1:{self.ports.mongo}/"

    def restart_mongo(self, *, kill: bool = False) -> None:
        """Stop the local MongoDB server (SIGKILL with ``kill``: a crash; else SIGTERM) and
        start it again on the same data directory and port.

        Raises:
            RuntimeError: the stack uses an external MongoDB (``--mongo-uri``).
        """
        if not self._mongo_args:
            raise RuntimeError("the stack uses an external MongoDB; it cannot restart it")
        old = next(p for p in self.children if list(p.args) == self._mongo_args)
        if kill:
            old.kill()
            old.wait(timeout=10)
        else:
            procs.stop(old)
        self.children.remove(old)
        proc = procs.start(self._mongo_args, log_path=self.state_dir / "logs" / "mongo.out")
        self.children.append(proc)
        self._write_pids()
        procs.wait_for_port(self.ports.mongo, proc=proc)

    def service_env(self) -> dict[str, str]:
        """Environment pointing AWS SDKs at moto."""
        return {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": self.urls["aws"]}

    def function_env(self) -> dict[str, str]:
        """The environment every emulated function gets (template names, local values)."""
        assert self.resources is not None
        return {
            **self.service_env(),
            "SECUREFACE_MODEL_BUCKET": self.resources.model_bucket,
            "SECUREFACE_SIGNING_KEY_ID": self.resources.signing_key_id,
            "SECUREFACE_MANIFEST_KEY_ID": self.resources.manifest_key_id,
            "SECUREFACE_DATA_KEY_ID": self.resources.data_key_id,
            "SECUREFACE_MONGO_URI": self.mongo_uri,
            "SECUREFACE_MONGO_DB": self.mongo_db,
            # The page, the browser's and relying parties' API and the issuer: one origin, the
            # web server standing in for the distribution (devstack.localapi.Edge).
            "SECUREFACE_PUBLIC_ORIGIN": self.urls["web"],
            "SECUREFACE_EDGE_TOKEN": self.edge_token,
            "SECUREFACE_RESULT_KEY_ID": self.resources.result_key_id,
            "SECUREFACE_RP_REGISTRY_SECRET_ID": self.registry_secret_id,
            # The template's MinManifestVersion, as the deploy workflow passes it.
            "SECUREFACE_MIN_MANIFEST_VERSION": str(catalog_manifest_version()),
            "SECUREFACE_DEVSTACK_MONGO_TRACE": str(self.mongo_trace),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOGGER_LOG_EVENT": "false",
            "POWERTOOLS_METRICS_NAMESPACE": "SecureFace",
            "LOG_LEVEL": "INFO",
        }

    def _serve(self) -> None:
        spec = read_api(REPO / "template.yaml")
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("SECUREFACE_")}
        env = {**base_env, **self.function_env()}
        for name, fn in spec.functions.items():
            plain = {k: str(v) for k, v in fn.environment.items() if isinstance(v, str | int)}
            own = {}
            if self.mongo_users:  # this function's own user
                own["SECUREFACE_MONGO_URI"] = self.function_mongo_uris[name]
            if self.fault_control is not None:  # through the fault proxies
                own |= self.fault_control.function_env(own.get("SECUREFACE_MONGO_URI", ""))
            self.pools[name] = FunctionPool(
                fn, {**env, **plain, **self.function_env(), **own}, self.state_dir / "logs"
            )
        credentials = (
            LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        api = LocalApi(spec, self.pools, iam_credentials=credentials)
        from devstack.web import security_headers, site_root
        from secureface.frontend import frontend_config

        assert self.resources is not None
        config = frontend_config(
            self.urls["web"],
            self.resources.public_key_der,
            self.resources.manifest_public_key_der,
            start_url=self.urls["rp"],
        )
        headers = security_headers()
        edge = Edge(api, spec.edge_paths, self.edge_token)
        self.servers = [
            make_server(api, self.ports.api),
            frontend_server(site_root(), self.ports.web, headers, {"/config.json": config}, edge),
        ]
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def _write_pids(self) -> None:
        records = []
        for proc in self.children:
            running = procs.ProcessId.of(proc.pid)
            if running is not None:
                records.append({"pid": proc.pid, "started": running.started,
                                "cmdline": procs.pid_cmdline(proc.pid)})  # fmt: skip
        procs.write_whole(self.state_dir / "pids.json", json.dumps(records))

    def info(self) -> dict[str, Any]:
        """What a person (or a test) needs: URLs, the two pinned public keys, pids."""
        assert self.resources is not None
        return {
            "urls": self.urls,
            "public_key_pem": _pem(self.resources.public_key_der),
            "manifest_public_key_pem": _pem(self.resources.manifest_public_key_der),
            "manifest_key_id": self.resources.manifest_key_id,
            "model_bucket": self.resources.model_bucket,
            "mongo_db": self.mongo_db,
            "signing_key_id": self.resources.signing_key_id,
            "data_key_id": self.resources.data_key_id,
            "result_key_id": self.resources.result_key_id,
            "relying_parties": self.relying_parties,
            "mongo_trace": str(self.mongo_trace),
            "mongo_users": self.mongo_users,
            # Test-only credentials of a throwaway database (state dir, never a log).
            "function_mongo_uris": self.function_mongo_uris,
            "faults": self.fault_control.url if self.fault_control is not None else "",
            "pid": os.getpid(),
            "children": [p.pid for p in self.children],
            "env": self.function_env(),
        }

    def stop(self) -> None:
        """Stop servers, function instances and child services (by pid)."""
        for server in self.servers:
            server.shutdown()
            server.server_close()
        if self.fault_control is not None:
            self.fault_control.close()
        for pool in self.pools.values():
            pool.close()
        for proc in reversed(self.children):
            procs.stop(proc)
        (self.state_dir / "pids.json").unlink(missing_ok=True)


def stop_leftovers(state_dir: Path) -> None:
    """Stop the children a crashed earlier run left behind: the very processes it recorded (pid
    and start time, see :class:`devstack.procs.ProcessId`), never whatever took their pids."""
    record = state_dir / "pids.json"
    if not record.exists():
        return
    for entry in json.loads(record.read_text()):
        if "started" not in entry:  # recorded before start times were
            log.warning("leftover process %s left alone: no start time recorded", entry["pid"])
            continue
        leftover = procs.ProcessId(int(entry["pid"]), int(entry["started"]))
        if not leftover.alive():
            continue
        if procs.pid_cmdline(leftover.pid) != entry["cmdline"]:
            log.warning("leftover process %s left alone: it runs another command", leftover.pid)
            continue
        log.warning("stopping leftover process %s", leftover.pid)
        leftover.stop()
        if leftover.alive():
            log.error("leftover process %s did not stop", leftover.pid)
    record.unlink()


def _pem(der: bytes) -> str:
    """A DER SPKI public key as PEM text."""
    key = serialization.load_der_public_key(der)
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()
