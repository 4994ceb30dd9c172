"""``python -m secureface doctor``: is a deployment set up to work?

Each check answers ``ok``, ``warn`` or ``fail`` with one line an operator can act on and, where
one exists, the runbook in docs/OPERATIONS.md or the step in docs/DEPLOY.md. What it reads
comes through :class:`Deployment` (boto3 in :mod:`secureface.adapters.doctor_aws`; fakes or
moto in tests). No check ever prints a secret's value: a connection string is described by
its scheme only, a driver's error by its type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from secureface.crypto.ecdsa import key_fingerprint, load_public_key
from secureface.encoding import b64url_decode
from secureface.errors import IntegrityError, SecureFaceError
from secureface.models.layout import MANIFEST_KEY
from secureface.models.manifest import verify_manifest_at, verify_manifest_signature
from secureface.transactions.registry import parse_registry

OK, WARN, FAIL = "ok", "warn", "fail"
#: A manifest expiring sooner than this is a warning (the daily re-sign should have run).
MANIFEST_WARN_S = 3 * 24 * 3600
#: Where an operator reads what to do (docs/OPERATIONS.md's runbooks, docs/DEPLOY.md's steps).
EXPIRING = "docs/OPERATIONS.md#manifest-expiring"
REFUSED = "docs/OPERATIONS.md#model-unavailable"
PUBLISHING = "docs/DEPLOY.md#publishing-models-and-re-signing-the-manifest"
FUNCTIONS = ("KeyExchange", "Model", "Transactions", "Verify")
#: config.json's pins (``<field>Spki``, ``<field>Id``: secureface.frontend) and their KMS keys.
PINS = {"server key": "serverKey", "manifest key": "manifestKey"}
PIN_OUTPUTS = {"server key": "SigningKeyArn", "manifest key": "ManifestKeyArn"}
REQUIRED_OUTPUTS = (
    "FrontendUrl", "ApiUrl", "ModelBucketName", "SigningKeyArn", "ManifestKeyArn",
    "ResultKeyArn", "DataKeyArn", "RelyingPartiesSecretArn", "EnrollmentAdminPolicyArn",
    *(f"{f}MongoSecretArn" for f in FUNCTIONS),
)  # fmt: skip


@dataclass(frozen=True)
class Check:
    """One finding."""

    name: str
    status: str
    detail: str
    see: str = ""


class Deployment(Protocol):
    """What the doctor reads of one deployed stack."""

    def stack(self) -> tuple[str, dict[str, str], dict[str, str]]:
        """``(status, outputs, parameters)``; raises LookupError when there is no such stack."""

    def secret(self, secret_id: str) -> str | None:
        """A secret's current value, or None when it has none (created empty)."""

    def object(self, bucket: str, key: str) -> bytes | None:
        """An S3 object's bytes, or None when absent."""

    def public_key(self, key_id: str) -> bytes:
        """A KMS key's public half (DER SPKI)."""

    def attachments(self, policy_arn: str) -> int:
        """How many users, groups and roles a managed policy is attached to."""

    def fetch(self, url: str) -> bytes | None:
        """An HTTPS GET's body, or None when it fails."""

    def ping(self, uri: str) -> str:
        """'' when MongoDB at ``uri`` answers a ping, else what went wrong, without the URI
        or any part of it (an exception's type, never its message)."""


def diagnose(d: Deployment, *, now: int, ping: bool = False) -> list[Check]:
    """Every check, in order; stops after the stack check when there is no usable stack.

    Never raises for what it reads: a store that cannot be read is a failed check.
    """
    try:
        status, outputs, parameters = d.stack()
    except LookupError as exc:
        return [Check("stack", FAIL, str(exc), "docs/DEPLOY.md#first-deploy")]
    except SecureFaceError as exc:  # no credentials, no network, access denied
        return [Check("stack", FAIL, f"could not be read ({exc.reason})")]
    missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
    healthy = status.endswith("_COMPLETE") and "ROLLBACK" not in status
    stack = Check(
        "stack",
        OK if healthy and not missing else FAIL,
        f"{status}" + (f"; missing outputs {', '.join(missing)}" if missing else ""),
        "" if healthy else "docs/DEPLOY.md#first-deploy",
    )
    if missing:
        return [stack]
    checks = [stack]
    for function in FUNCTIONS:
        checks.append(_mongo_secret(d, function, outputs[f"{function}MongoSecretArn"], ping))
    checks.append(_manifest(d, outputs, parameters, now))
    checks.append(_pins(d, outputs))
    checks.append(_guarded("admin policy", lambda: _admin(d, outputs)))
    checks.append(_guarded("relying parties", lambda: _registry(d, outputs)))
    return checks


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except SecureFaceError as exc:
        return Check(name, FAIL, f"could not be read ({exc.reason})")


def _mongo_secret(d: Deployment, function: str, secret_id: str, ping: bool) -> Check:
    name = f"mongodb ({function.lower()})"
    see = "docs/DEPLOY.md#set-the-atlas-connection-strings"
    try:
        value = d.secret(secret_id)
    except SecureFaceError as exc:
        return Check(name, FAIL, f"secret could not be read ({exc.reason})", see)
    if not value:
        return Check(
            name, FAIL, "the secret has no value: set this function's connection string", see
        )
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in ("mongodb", "mongodb+srv"):
        return Check(name, FAIL, "the secret is not a mongodb:// or mongodb+srv:// string", see)
    if not ping:
        return Check(name, OK, f"{scheme}:// connection string set (not tried; --ping tries it)")
    problem = d.ping(value)
    if problem:
        return Check(name, FAIL, f"--ping: {problem}", "docs/OPERATIONS.md#store-unavailable")
    return Check(name, OK, f"{scheme}:// connection string set; MongoDB answers a ping")


def _manifest(
    d: Deployment, outputs: dict[str, str], parameters: dict[str, str], now: int
) -> Check:
    """The stored manifest as the functions see it: ManifestKey's signature first (another
    signer is an incident), then its lifetime and the deployed floor."""
    try:
        token = d.object(outputs["ModelBucketName"], MANIFEST_KEY)
        key = load_public_key(d.public_key(outputs["ManifestKeyArn"]))
    except SecureFaceError as exc:
        return Check("manifest", FAIL, f"could not be read ({exc.reason})")
    if token is None:
        return Check("manifest", FAIL, f"no {MANIFEST_KEY}: publish the models", PUBLISHING)
    text = token.decode(errors="replace")
    try:
        manifest = verify_manifest_signature(text, key)
    except IntegrityError as exc:
        return Check("manifest", FAIL, f"does not verify with ManifestKey: {exc.reason}", REFUSED)
    floor = int(parameters.get("MinManifestVersion") or 0)
    left = manifest.expires_at - now
    detail = (
        f"version {manifest.manifest_version} (floor {floor}), "
        f"expires in {left} s ({left / 86400:.1f} days)"
    )
    try:
        verify_manifest_at(text, key, now=now, min_version=floor)
    except IntegrityError as exc:
        see = EXPIRING if left <= 0 else REFUSED
        return Check("manifest", FAIL, f"{detail}: refused ({exc.reason})", see)
    if left < MANIFEST_WARN_S:
        return Check("manifest", WARN, detail, EXPIRING)
    return Check("manifest", OK, detail)


def _pins(d: Deployment, outputs: dict[str, str]) -> Check:
    """The page's config.json pins the keys KMS holds (each SPKI and its SHA-256, which the
    page checks against each other) and points at its own origin."""
    see = "docs/OPERATIONS.md#rotating-keys-and-secrets"
    origin = outputs["FrontendUrl"].rstrip("/")
    body = d.fetch(origin + "/config.json")
    if body is None:
        return Check("frontend pins", FAIL, f"{origin}/config.json could not be fetched", see)
    try:
        config = json.loads(body)
        pinned = {
            name: (b64url_decode(str(config[f"{field}Spki"]), field=f"{field}Spki"),
                   str(config[f"{field}Id"]))
            for name, field in PINS.items()
        }  # fmt: skip
        api = str(config["apiUrl"]).rstrip("/")
    except (ValueError, KeyError, TypeError, SecureFaceError):
        return Check("frontend pins", FAIL, "config.json is not the frontend's config", see)
    try:
        held = {name: d.public_key(outputs[output]) for name, output in PIN_OUTPUTS.items()}
    except SecureFaceError as exc:
        return Check("frontend pins", FAIL, f"KMS could not be read ({exc.reason})", see)
    wrong = [name for name in PINS if pinned[name] != (held[name], key_fingerprint(held[name]))]
    if wrong:
        return Check(
            "frontend pins",
            FAIL,
            f"config.json pins another {' and '.join(wrong)} than KMS holds: deploy the frontend",
            see,
        )
    if api != origin:
        return Check(
            "frontend pins",
            FAIL,
            f"config.json's apiUrl is {api}, not the page's origin {origin}",
            see,
        )
    return Check(
        "frontend pins", OK, "config.json pins SigningKey and ManifestKey, API on the page's origin"
    )


def _admin(d: Deployment, outputs: dict[str, str]) -> Check:
    count = d.attachments(outputs["EnrollmentAdminPolicyArn"])
    if count == 0:
        return Check(
            "admin policy",
            WARN,
            "EnrollmentAdminPolicy is attached to nobody: no one can enroll",
            "docs/DEPLOY.md#enrolling-subjects-admin-routes",
        )
    who = "identity" if count == 1 else "identities"
    return Check("admin policy", OK, f"EnrollmentAdminPolicy attached to {count} {who}")


def _registry(d: Deployment, outputs: dict[str, str]) -> Check:
    value = d.secret(outputs["RelyingPartiesSecretArn"])
    if value is None:
        return Check(
            "relying parties", FAIL, "the registry secret has no value", "docs/INTEGRATION.md"
        )
    parties = parse_registry(value)  # ConfigurationError: what the functions would refuse
    if not parties:
        return Check(
            "relying parties",
            WARN,
            "no relying party registered: python -m secureface rp add",
            "docs/INTEGRATION.md",
        )
    return Check("relying parties", OK, f"{len(parties)} registered ({', '.join(sorted(parties))})")


def render(checks: list[Check]) -> str:
    """The table the CLI prints."""
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        see = f"  (see {c.see})" if c.see and c.status != OK else ""
        lines.append(f"{c.status.upper():4}  {c.name.ljust(width)}  {c.detail}{see}")
    return "\n".join(lines)
