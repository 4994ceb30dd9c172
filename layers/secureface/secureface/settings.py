"""Typed settings read once from the environment: names and knobs, never secrets.

The same code runs against the local stack (moto + a MongoDB wire server) and against AWS and
MongoDB Atlas; only these variables differ. boto3 itself honours ``AWS_ENDPOINT_URL`` and
``AWS_REGION``, so no endpoint setting is needed here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from secureface.errors import ConfigurationError

#: OpenCV's cosine threshold for "same person" with SFace on LFW (99.40 %): the default match
#: threshold (``MatchThreshold``). The one place the number is written; docs/LIVENESS.md.
OPENCV_COSINE_THRESHOLD = 0.363


@dataclass(frozen=True)
class Settings:
    """Deployment settings.

    Attributes:
        model_bucket: S3 bucket holding the published models and manifest (SSE-KMS).
        signing_key_id: KMS asymmetric ``ECC_NIST_P256`` key (id, ARN or alias) that signs the
            per-instance delegations behind every session (key exchange only).
        manifest_key_id: KMS asymmetric ``ECC_NIST_P256`` key whose public half checks the model
            manifest (model and verify functions; ``models publish`` signs with it). Only the
            deploy role may sign with it, and browsers pin it separately from the server key.
        data_key_id: KMS symmetric key for envelope encryption (templates, session secrets).
        mongo_uri: MongoDB connection string; set directly only for local/dev/test.
        mongo_secret_id: Secrets Manager secret holding the Atlas connection string (production).
        mongo_db: database name.
        public_origin: the one public origin of the hosted page, the browser's and relying
            parties' API (CloudFront in front of both) and the result tokens' issuer
            (``https://host``). Set directly locally; in production read at a cold start from
            the SSM parameter ``public_origin_parameter`` (the template creates it: its value
            names the distribution, which the functions' own definition cannot).
        public_origin_parameter: the SSM parameter holding ``public_origin``.
        edge_token: the token the distribution adds to every request it forwards
            (``X-SecureFace-Edge``): with it, the viewer's address is CloudFront's
            ``CloudFront-Viewer-Address``; without it, the connection's. Set directly locally;
            in production read from the secret ``edge_secret_id``.
        edge_secret_id: the Secrets Manager secret holding ``edge_token``.
        manifest_ttl_s: how long a freshly signed manifest stays valid.
        min_manifest_version: the lowest manifest version the model and verify functions accept
            (``model_versions.json``'s ``manifest_version``, passed by the deploy through the
            template's ``MinManifestVersion``); 0 = unset, which those functions refuse to run
            with. Never read from the bucket, so an archived manifest copied over the current one
            is refused.
        match_threshold: SFace cosine at or above which a probe matches a template (default
            0.363, the threshold OpenCV publishes for SFace on LFW; docs/LIVENESS.md).
        frame_workers: verify frames analysed side by side (1 = one after another); match it to
            the function's vCPUs (Lambda: ~1 vCPU per 1769 MB of memory).
        allow_motion_only: whether a browser may ask for the motion-only liveness challenge (no
            flashing colours, for people with photosensitive epilepsy): a lower assurance level,
            stated in every result it produces (``SECUREFACE_ALLOW_MOTION_ONLY=true``).
        verify_deadline_s: longest time from a session's issue to its ``/verify`` (the capture
            itself takes about 6 s; docs/LIVENESS.md).
        result_key_id: KMS asymmetric ``ECC_NIST_P256`` key that signs result tokens (verify
            only; a key of its own, never the one browsers pin).
        result_previous_key_ids: keys that signed results before a rotation, still published
            in the JWKS until their last tokens have expired (comma-separated).
        rp_registry_secret_id: Secrets Manager secret holding the relying-party registry
            (:mod:`secureface.transactions.registry`).
        session_ttl_s: lifetime of a key-exchange session (models and verify).
        lockout_max_failures, lockout_window_s, lockout_lock_s: failures allowed per subject
            and per client within the window, and how long the lock that follows lasts.
        audit_retention_days: how long audit records are kept (a TTL index).
    """

    model_bucket: str
    signing_key_id: str = ""
    data_key_id: str = ""
    mongo_uri: str = ""
    mongo_secret_id: str = ""
    mongo_db: str = "secureface"
    public_origin: str = ""
    public_origin_parameter: str = ""
    edge_token: str = ""
    edge_secret_id: str = ""
    manifest_ttl_s: int = 30 * 24 * 3600
    min_manifest_version: int = 0
    frame_workers: int = 2
    match_threshold: float = OPENCV_COSINE_THRESHOLD
    allow_motion_only: bool = False
    verify_deadline_s: int = 60
    result_key_id: str = ""
    result_previous_key_ids: tuple[str, ...] = ()
    rp_registry_secret_id: str = ""
    manifest_key_id: str = ""
    session_ttl_s: int = 300
    lockout_max_failures: int = 5
    lockout_window_s: int = 180
    lockout_lock_s: int = 1800
    audit_retention_days: int = 90

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: ``os.environ``).

        Raises:
            ConfigurationError: a required variable is missing or a number does not parse.
        """
        env = os.environ if env is None else env

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ConfigurationError(reason=f"environment variable {name} is not set")
            return value

        def integer(name: str, default: int, minimum: int = 1) -> int:
            try:
                value = int(env.get(name, "") or default)
            except ValueError as exc:
                raise ConfigurationError(reason=f"{name} is not an integer") from exc
            if value < minimum:
                raise ConfigurationError(reason=f"{name} must be at least {minimum}")
            return value

        return cls(
            model_bucket=required("SECUREFACE_MODEL_BUCKET"),
            signing_key_id=env.get("SECUREFACE_SIGNING_KEY_ID", "").strip(),
            data_key_id=env.get("SECUREFACE_DATA_KEY_ID", ""),
            mongo_uri=env.get("SECUREFACE_MONGO_URI", ""),
            mongo_secret_id=env.get("SECUREFACE_MONGO_SECRET_ID", ""),
            mongo_db=env.get("SECUREFACE_MONGO_DB", "secureface"),
            public_origin=env.get("SECUREFACE_PUBLIC_ORIGIN", "").strip().rstrip("/"),
            public_origin_parameter=env.get("SECUREFACE_PUBLIC_ORIGIN_PARAMETER", "").strip(),
            edge_token=env.get("SECUREFACE_EDGE_TOKEN", "").strip(),
            edge_secret_id=env.get("SECUREFACE_EDGE_SECRET_ID", "").strip(),
            manifest_ttl_s=integer("SECUREFACE_MANIFEST_TTL_S", cls.manifest_ttl_s),
            min_manifest_version=integer("SECUREFACE_MIN_MANIFEST_VERSION", 0, minimum=0),
            frame_workers=integer("SECUREFACE_FRAME_WORKERS", cls.frame_workers),
            match_threshold=_fraction(env, "SECUREFACE_MATCH_THRESHOLD", cls.match_threshold),
            allow_motion_only=_flag(env, "SECUREFACE_ALLOW_MOTION_ONLY"),
            verify_deadline_s=integer("SECUREFACE_VERIFY_DEADLINE_S", cls.verify_deadline_s),
            result_key_id=env.get("SECUREFACE_RESULT_KEY_ID", "").strip(),
            manifest_key_id=env.get("SECUREFACE_MANIFEST_KEY_ID", "").strip(),
            session_ttl_s=integer("SECUREFACE_SESSION_TTL_S", cls.session_ttl_s, minimum=30),
            lockout_max_failures=integer(
                "SECUREFACE_LOCKOUT_MAX_FAILURES", cls.lockout_max_failures
            ),
            lockout_window_s=integer("SECUREFACE_LOCKOUT_WINDOW_S", cls.lockout_window_s),
            lockout_lock_s=integer("SECUREFACE_LOCKOUT_LOCK_S", cls.lockout_lock_s),
            audit_retention_days=integer(
                "SECUREFACE_AUDIT_RETENTION_DAYS", cls.audit_retention_days
            ),
            result_previous_key_ids=tuple(
                k.strip()
                for k in env.get("SECUREFACE_RESULT_PREVIOUS_KEY_IDS", "").split(",")
                if k.strip()
            ),
            rp_registry_secret_id=env.get("SECUREFACE_RP_REGISTRY_SECRET_ID", "").strip(),
        )


def match_threshold(env: Mapping[str, str]) -> float:
    """The server's match threshold from ``env`` (``SECUREFACE_MATCH_THRESHOLD``, default
    :attr:`Settings.match_threshold`) without requiring the other settings (operator tools)."""
    return _fraction(env, "SECUREFACE_MATCH_THRESHOLD", Settings.match_threshold)


def require(value: str, name: str) -> str:
    """``value`` if set; a function that needs a setting asks for it when it first uses it.

    Raises:
        ConfigurationError: empty.
    """
    if not value:
        raise ConfigurationError(reason=f"environment variable {name} is not set")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    """``true`` / ``false`` (or unset: false) from ``env``.

    Raises:
        ConfigurationError: any other value.
    """
    value = env.get(name, "").strip().lower()
    if value not in ("", "true", "false"):
        raise ConfigurationError(reason=f"{name} must be true or false")
    return value == "true"


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    """A float in (0, 1) from ``env``.

    Raises:
        ConfigurationError: not a number, or outside (0, 1).
    """
    try:
        value = float(env.get(name, "") or default)
    except ValueError as exc:
        raise ConfigurationError(reason=f"{name} is not a number") from exc
    if not 0.0 < value < 1.0:
        raise ConfigurationError(reason=f"{name} must be between 0 and 1")
    return value


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def checked_origin(value: str) -> str:
    """``value`` if it is an origin (``scheme://host[:port]``, no path), without a trailing
    slash.

    Raises:
        ConfigurationError: anything else (a path, a query, an empty value).
    """
    origin = value.strip().rstrip("/")
    if not _ORIGIN.fullmatch(origin):
        raise ConfigurationError(reason="the public origin is not scheme://host[:port]")
    return origin
