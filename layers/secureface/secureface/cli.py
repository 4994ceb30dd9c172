"""``python -m secureface``: a thin argparse shell over the package's public API.

Commands:
    models publish   upload s3-uploads/ + model_versions.json and sign a fresh manifest
    models verify    check every file in s3-uploads/ against model_versions.json
    fetch-models     download the models a browser runs over an authenticated session
    enroll           enroll a subject from images (admin route, signed with AWS credentials)
    erase            delete a subject's template (admin route)
    verify           run the whole protocol as a relying party would, with a recorded burst
    token verify     check a result token (JWT) against the issuer's JWKS, as a relying party
    rp add           register a relying party: a fresh client secret and its registry entry
    match            compare two images with the server's pipeline and threshold (operator tool)
    frontend-config  print the browser app's config.json (API URL, the two pinned KMS keys)
    mongo-roles      print the Atlas CLI commands for one database user and role per function
    doctor           check a deployed stack: secrets, manifest, the frontend's pins, policies
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from secureface.errors import SecureFaceError
from secureface.settings import match_threshold


def _publish(args: argparse.Namespace) -> int:
    from secureface.adapters.aws import KmsSigner, S3ObjectStore
    from secureface.models.catalog import load_catalog
    from secureface.models.publish import publish_at
    from secureface.settings import Settings, require

    settings = Settings.from_env(publish_env(args, _env_defaults()))
    result = publish_at(
        load_catalog(args.catalog),
        args.models_dir,
        S3ObjectStore(settings.model_bucket, settings.data_key_id),
        KmsSigner(require(settings.manifest_key_id, "--manifest-key")),
        now=int(time.time()),
        ttl_s=settings.manifest_ttl_s,
    )
    summary = {
        "manifest_version": result.manifest_version,
        "signed": result.signed,
        "uploaded": result.uploaded,
        "unchanged": result.skipped,
    }
    print(json.dumps(summary, indent=2))
    return 0


def publish_env(args: argparse.Namespace, env: dict[str, str]) -> dict[str, str]:
    """The settings ``models publish`` uses: the environment, **overridden** by the flags given
    (a flag is what the operator typed for this run; it once lost to a stale variable)."""
    flags = {
        "SECUREFACE_MODEL_BUCKET": args.bucket or "",
        "SECUREFACE_MANIFEST_KEY_ID": args.manifest_key or "",
        "SECUREFACE_DATA_KEY_ID": args.data_key or "",
        "SECUREFACE_MANIFEST_TTL_S": str(args.ttl) if args.ttl else "",
    }
    return env | {name: value for name, value in flags.items() if value}


def _env_defaults() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k.startswith("SECUREFACE_") and v}


def _verify_files(args: argparse.Namespace) -> int:
    from secureface.models.catalog import load_catalog, read_verified

    catalog = load_catalog(args.catalog)
    for model in catalog.models:
        read_verified(model, args.models_dir)
        print(f"ok  {model.file}  {model.entry.sha256}")
    return 0


def load_pinned_key(text: str, field: str = "server key") -> bytes:
    """DER SPKI from a PEM file path or a base64url SPKI string."""
    from cryptography.hazmat.primitives import serialization

    from secureface.crypto.ecdsa import spki_der
    from secureface.encoding import b64url_decode

    path = Path(text)
    if path.exists():
        key = serialization.load_pem_public_key(path.read_bytes())
        return spki_der(key)  # type: ignore[arg-type]
    return b64url_decode(text, field=field)


def _fetch_models(args: argparse.Namespace) -> int:
    from secureface.client import SecureFaceClient, browser_models

    client = SecureFaceClient(
        args.api,
        load_pinned_key(args.server_key),
        manifest_spki=load_pinned_key(args.manifest_key, "manifest key"),
        state_file=args.state_file,
    )
    manifest = client.fetch_manifest()
    session = client.open_session(args.client_token, purpose="models")
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    wanted = browser_models(manifest)  # the server serves no other (the embedder stays there)
    for entry in wanted:
        data = client.fetch_model(session, entry, parallel=args.parallel)
        (args.out / f"{entry.name}-{entry.version}.onnx").write_bytes(data)
        print(f"ok  {entry.name} {entry.version}  {entry.size} bytes  sha256 {entry.sha256}")
    print(
        f"manifest v{manifest.manifest_version}: {len(wanted)} models verified "
        f"in {time.monotonic() - started:.2f}s"
    )
    return 0


def _enroll(args: argparse.Namespace) -> int:
    from secureface.client import AdminClient
    from secureface.encoding import b64url_encode

    client = AdminClient(args.api)
    images = [b64url_encode(Path(p).read_bytes()) for p in args.images]
    result = client.call(
        "POST", "/admin/enrollments", {"subject_id": args.subject, "images": images}
    )
    print(json.dumps(result))
    return 0


def _erase(args: argparse.Namespace) -> int:
    from secureface.client import AdminClient

    client = AdminClient(args.api)
    print(json.dumps(client.call("DELETE", f"/admin/enrollments/{args.subject}")))
    return 0


def _client_secret(path: Path) -> str:
    """A client secret from a file: JSON ``{"client_secret": …}`` or the bare secret."""
    text = path.read_text().strip()
    return str(json.loads(text)["client_secret"]) if text.startswith("{") else text


def _verify(args: argparse.Namespace) -> int:
    import secrets

    from secureface.client import SecureFaceClient, load_burst
    from secureface.rp import RelyingPartyClient
    from secureface.transactions.result import DECISIONS

    frames, times = load_burst(args.burst)
    rp = RelyingPartyClient(args.api, args.client_id, _client_secret(args.client_secret_file))
    nonce = secrets.token_urlsafe(24)
    started = rp.start(subject=args.subject, nonce=nonce, return_url=args.return_url, state="cli")
    client = SecureFaceClient(args.api, load_pinned_key(args.server_key))
    session = client.open_session(started.client_token, liveness=args.liveness)
    client.verify(session, frames, times, transaction_id=started.transaction_id)
    result = rp.verify(
        rp.redeem(started.transaction_id), nonce=nonce, subject=args.subject, accept=DECISIONS
    )
    print(json.dumps({**result.claims(), "challenge": session.transcript.challenge.to_json()}))
    return 0 if result.verified else 1


def _token_verify(args: argparse.Namespace) -> int:
    from secureface.client import http_request
    from secureface.errors import ResultRefused
    from secureface.transactions.result import verify_result

    issuer = args.issuer.rstrip("/")
    if args.jwks:
        keys = json.loads(args.jwks.read_text())
    else:
        keys = json.loads(http_request("GET", f"{issuer}/.well-known/jwks.json", None, {}, 15))
    try:
        result = verify_result(
            args.token.strip(), keys=keys, issuer=issuer, audience=args.audience,
            nonce=args.nonce, subject=args.subject, now=int(time.time()),
        )  # fmt: skip
    except ResultRefused as exc:
        print(json.dumps({"valid": True, "verified": False, "reason": exc.reason}))
        return 1
    print(json.dumps({"valid": True, "verified": True, **result.claims()}))
    return 0


def _rp_add(args: argparse.Namespace) -> int:
    from secureface.transactions.registry import new_client_secret, parse_registry

    secret, digest = new_client_secret()
    entry = {
        "client_id": args.client_id, "name": args.name, "secret_sha256": digest,
        "return_urls": args.return_url, "alternative_url": args.alternative_url,
    }  # fmt: skip
    parse_registry(json.dumps({"relying_parties": [entry]}))  # the same checks as the server
    if args.secret_id:
        from secureface.adapters.aws import client as aws_client
        from secureface.adapters.aws import secret_string

        document = json.loads(secret_string(args.secret_id))
        document["relying_parties"] = [
            p for p in document.get("relying_parties", []) if p.get("client_id") != args.client_id
        ] + [entry]
        parse_registry(json.dumps(document))
        aws_client("secretsmanager").put_secret_value(
            SecretId=args.secret_id, SecretString=json.dumps(document)
        )
    print(json.dumps({"client_id": args.client_id, "client_secret": secret, "entry": entry}))
    print("the client secret is shown once: hand it to the relying party now", file=sys.stderr)
    return 0


def _match(args: argparse.Namespace) -> int:
    from secureface.adapters.onnx_runtime import OnnxModel
    from secureface.face import decode_image
    from secureface.models.catalog import load_catalog, read_verified
    from secureface.verify.analysis import FaceEngine
    from secureface.verify.match import match_images

    catalog = load_catalog(args.catalog)
    by_role = {m.entry.role: OnnxModel(read_verified(m, args.models_dir)) for m in catalog.models}
    engine = FaceEngine(by_role["detector"], by_role["embedding"], by_role["antispoof"])
    images = [decode_image(Path(p).read_bytes()) for p in (args.first, args.second)]
    threshold = match_threshold(_env_defaults())
    print(json.dumps(match_images(engine, images[0], images[1], threshold)))
    return 0


def _frontend_config(args: argparse.Namespace) -> int:
    from secureface.adapters.aws import KmsSigner
    from secureface.frontend import frontend_config

    env = _env_defaults()
    key_ids = []
    for flag, value, name in (
        ("--signing-key", args.signing_key, "SECUREFACE_SIGNING_KEY_ID"),
        ("--manifest-key", args.manifest_key, "SECUREFACE_MANIFEST_KEY_ID"),
    ):
        if not (key_id := value or env.get(name, "")):
            print(f"error: {flag} or {name} is required", file=sys.stderr)
            return 2
        key_ids.append(key_id)
    config = frontend_config(
        args.api,
        KmsSigner(key_ids[0]).public_key_der(),
        KmsSigner(key_ids[1]).public_key_der(),
        start_url=args.start_url,
        allow_motion_only=args.allow_motion_only,
    )
    sys.stdout.buffer.write(config)
    return 0


def _mongo_roles(args: argparse.Namespace) -> int:
    from secureface.adapters.mongo_access import atlas_commands

    print("\n".join(atlas_commands(args.db)))
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from secureface.adapters.doctor_aws import AwsDeployment
    from secureface.doctor import FAIL, diagnose, render

    checks = diagnose(AwsDeployment(args.stack, args.region), now=int(time.time()), ping=args.ping)
    if args.json:
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        print(render(checks))
    return 1 if any(c.status == FAIL for c in checks) else 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(prog="secureface", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    models = commands.add_parser("models", help="publish and check the model set")
    models_cmds = models.add_subparsers(dest="models_command", required=True)
    for name, func, text in (
        ("publish", _publish, "publish models and sign the manifest"),
        ("verify", _verify_files, "check model files against the catalog"),
    ):
        sub = models_cmds.add_parser(name, help=text)
        sub.add_argument("--catalog", type=Path, default=Path("model_versions.json"))
        sub.add_argument("--models-dir", type=Path, default=Path("s3-uploads"))
        sub.set_defaults(func=func)
        if name == "publish":
            sub.add_argument("--bucket", help="model bucket (env SECUREFACE_MODEL_BUCKET)")
            sub.add_argument(
                "--manifest-key", help="KMS manifest key (env SECUREFACE_MANIFEST_KEY_ID)"
            )
            sub.add_argument("--data-key", help="KMS key for SSE-KMS (env SECUREFACE_DATA_KEY_ID)")
            sub.add_argument("--ttl", type=int, help="manifest validity in seconds")
    fetch = commands.add_parser(
        "fetch-models", help="download and verify the published models a browser runs"
    )
    fetch.add_argument("--api", required=True, help="API base URL")
    fetch.add_argument("--server-key", required=True, help="pinned key: PEM file or b64url SPKI")
    fetch.add_argument(
        "--manifest-key", required=True, help="pinned manifest key: PEM file or b64url SPKI"
    )
    fetch.add_argument("--out", type=Path, required=True, help="directory for the models")
    fetch.add_argument(
        "--client-token", required=True, help="a transaction's client token (from its RP)"
    )
    fetch.add_argument("--state-file", type=Path, default=Path(".secureface-client.json"))
    fetch.add_argument("--parallel", type=int, default=4)
    fetch.set_defaults(func=_fetch_models)
    enroll = commands.add_parser("enroll", help="enroll a subject (admin, SigV4-signed)")
    enroll.add_argument("--api", required=True)
    enroll.add_argument("--subject", required=True)
    enroll.add_argument("images", nargs="+")
    enroll.set_defaults(func=_enroll)
    erase = commands.add_parser("erase", help="delete a subject's template (admin)")
    erase.add_argument("--api", required=True)
    erase.add_argument("--subject", required=True)
    erase.set_defaults(func=_erase)
    verify = commands.add_parser(
        "verify", help="as a relying party: start a transaction, send a recorded burst, redeem"
    )
    verify.add_argument("--api", required=True)
    verify.add_argument("--server-key", required=True, help="pinned key: PEM file or b64url SPKI")
    verify.add_argument("--subject", required=True)
    verify.add_argument("--client-id", required=True, help="the relying party's client id")
    verify.add_argument(
        "--client-secret-file", type=Path, required=True, help="its secret (JSON or bare)"
    )
    verify.add_argument("--return-url", required=True, help="one of its registered return URLs")
    verify.add_argument("--liveness", choices=("light", "motion"), default="light")
    verify.add_argument(
        "burst",
        type=Path,
        help="a folder holding burst.json ({'frames': [{'file': …, 't': ms}, …]}) and the JPEGs",
    )
    verify.set_defaults(func=_verify)
    token = commands.add_parser("token", help="result tokens")
    token_cmds = token.add_subparsers(dest="token_command", required=True)
    check = token_cmds.add_parser("verify", help="verify a result token as a relying party")
    check.add_argument("token", help="the JWT")
    check.add_argument("--issuer", required=True, help="the API base URL (the iss)")
    check.add_argument("--audience", required=True, help="your client id")
    check.add_argument(
        "--nonce", required=True,
        help="the nonce of your transaction (write --nonce=VALUE: a nonce may begin with '-')",
    )  # fmt: skip
    check.add_argument("--subject", required=True, help="the person you started it for")
    check.add_argument("--jwks", type=Path, help="a JWKS file (default: fetch from the issuer)")
    check.set_defaults(func=_token_verify)
    rp = commands.add_parser("rp", help="relying parties")
    rp_cmds = rp.add_subparsers(dest="rp_command", required=True)
    add = rp_cmds.add_parser("add", help="a new client secret and registry entry")
    add.add_argument("--client-id", required=True)
    add.add_argument("--name", required=True, help="shown to people on the hosted page")
    add.add_argument("--return-url", action="append", required=True, help="exact; repeatable")
    add.add_argument("--alternative-url", default="", help="another way to sign in")
    add.add_argument(
        "--secret-id", help="the registry secret to update (RelyingPartiesSecretArn output)"
    )
    add.set_defaults(func=_rp_add)
    match = commands.add_parser("match", help="compare two face images")
    match.add_argument("first")
    match.add_argument("second")
    match.add_argument("--catalog", type=Path, default=Path("model_versions.json"))
    match.add_argument("--models-dir", type=Path, default=Path("s3-uploads"))
    match.set_defaults(func=_match)
    config = commands.add_parser("frontend-config", help="print the browser app's config.json")
    config.add_argument("--api", required=True, help="API base URL")
    config.add_argument("--signing-key", help="KMS server key (env SECUREFACE_SIGNING_KEY_ID)")
    config.add_argument("--manifest-key", help="KMS manifest key (env SECUREFACE_MANIFEST_KEY_ID)")
    config.add_argument(
        "--start-url", default="", help="where people who open the page without a link start"
    )
    config.add_argument(
        "--allow-motion-only",
        action="store_true",
        help="offer the motion-only check (set when the stack's AllowMotionOnly is true)",
    )
    config.set_defaults(func=_frontend_config)
    roles = commands.add_parser(
        "mongo-roles", help="Atlas CLI commands: a database user and role per function"
    )
    roles.add_argument("--db", default="secureface", help="the database (SECUREFACE_MONGO_DB)")
    roles.set_defaults(func=_mongo_roles)
    doctor = commands.add_parser(
        "doctor", help="check a deployed stack (exit 1 when a check fails)"
    )
    doctor.add_argument("--stack", required=True, help="the CloudFormation stack name")
    doctor.add_argument("--region", default="", help="default: the AWS CLI's")
    doctor.add_argument("--ping", action="store_true", help="also connect to each MongoDB user")
    doctor.add_argument("--json", action="store_true", help="the checks as JSON")
    doctor.set_defaults(func=_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; SecureFace errors print their message and exit 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SecureFaceError as exc:
        print(
            f"error: {exc.message}" + (f" ({exc.reason})" if exc.reason != exc.message else ""),
            file=sys.stderr,
        )
        return 2
