"""Composition root: adapters built from :class:`~secureface.settings.Settings`, created on
first use and reused across warm invocations (never at import, so SnapStart snapshots hold no
keys). :func:`reset` clears them (tests)."""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec

from secureface.adapters.aws import (
    KmsDataKeys,
    KmsSigner,
    S3ObjectStore,
    reset_clients,
    secret_string,
)
from secureface.crypto.delegation import DelegatedSigner
from secureface.crypto.ecdsa import load_public_key
from secureface.crypto.envelope import EnvelopeCipher
from secureface.errors import ConfigurationError, ModelUnavailableError
from secureface.models.delivery import ModelDelivery
from secureface.models.service import ModelService
from secureface.sessions.service import KeyExchangeService, SessionVault
from secureface.settings import Settings, checked_origin, require
from secureface.transactions.registry import Registry
from secureface.transactions.result import ResultSigner, jwks
from secureface.transactions.service import TransactionService

if TYPE_CHECKING:  # the adapters import pymongo (and the verify service numpy) when first used
    from pymongo.database import Database

    from secureface.adapters.mongo import MongoAuditLog, MongoSessionStore
    from secureface.adapters.mongo_transactions import MongoTransactionStore
    from secureface.verify.service import VerifyService


@functools.cache
def settings() -> Settings:
    """Settings read once from the environment."""
    return Settings.from_env()


@functools.cache
def model_store() -> S3ObjectStore:
    """The model bucket."""
    s = settings()
    return S3ObjectStore(s.model_bucket, s.data_key_id)


@functools.cache
def signer() -> KmsSigner:
    """The KMS server key: signs this instance's delegation (key exchange only)."""
    return KmsSigner(require(settings().signing_key_id, "SECUREFACE_SIGNING_KEY_ID"))


@functools.cache
def manifest_public_key() -> ec.EllipticCurvePublicKey:
    """The KMS manifest key's public half (fetched once per instance). Only the deploy role may
    sign with it; the functions only read it."""
    key_id = require(settings().manifest_key_id, "SECUREFACE_MANIFEST_KEY_ID")
    return load_public_key(KmsSigner(key_id).public_key_der())


@functools.cache
def delegated_signer() -> DelegatedSigner:
    """This instance's delegated transcript-signing key, vouched for by KMS."""
    kms = signer()
    return DelegatedSigner(kms.sign, kms.public_key_der)


@functools.cache
def envelope() -> EnvelopeCipher:
    """Envelope encryption of session keys under the KMS data key (purpose ``session``)."""
    return EnvelopeCipher(KmsDataKeys(settings().data_key_id, "session"))


@functools.cache
def biometric_envelope() -> EnvelopeCipher:
    """Envelope encryption of templates and burst fingerprints (purpose ``biometric``)."""
    return EnvelopeCipher(KmsDataKeys(settings().data_key_id, "biometric"))


@functools.cache
def session_store() -> MongoSessionStore:
    """Session records in MongoDB."""
    from secureface.adapters.mongo import MongoSessionStore

    return MongoSessionStore(_db())


@functools.cache
def transaction_store() -> MongoTransactionStore:
    """Transactions in MongoDB."""
    from secureface.adapters.mongo_transactions import MongoTransactionStore

    return MongoTransactionStore(_db())


@functools.cache
def registry() -> Registry:
    """The relying-party registry from Secrets Manager (re-read every few minutes)."""
    secret_id = require(settings().rp_registry_secret_id, "SECUREFACE_RP_REGISTRY_SECRET_ID")
    return Registry(lambda: secret_string(secret_id))


@functools.cache
def result_signer() -> ResultSigner:
    """The KMS key that signs result tokens (verify function only)."""
    kms = KmsSigner(require(settings().result_key_id, "SECUREFACE_RESULT_KEY_ID"))
    return ResultSigner(kms.sign, kms.public_key_der)


@functools.cache
def public_origin() -> str:
    """The public origin: the hosted page's URL and the result tokens' ``iss`` (set directly,
    or read once per instance from the template's SSM parameter)."""
    s = settings()
    if s.public_origin:
        return s.public_origin
    from secureface.adapters.aws import parameter_string

    name = require(s.public_origin_parameter, "SECUREFACE_PUBLIC_ORIGIN_PARAMETER")
    return checked_origin(parameter_string(name))


def issuer() -> str:
    """The ``iss`` of result tokens: the public origin, whose ``/.well-known/jwks.json`` is the
    JWKS."""
    return public_origin()


@functools.cache
def edge_token() -> str:
    """The distribution's token (``X-SecureFace-Edge``); empty when none is configured."""
    s = settings()
    if s.edge_token or not s.edge_secret_id:
        return s.edge_token
    from secureface.adapters.aws import secret_string

    return secret_string(s.edge_secret_id).strip()


@functools.cache
def result_jwks() -> dict[str, list[dict[str, str]]]:
    """The published JWKS: the signing key, then the previous keys (fetched once per instance)."""
    s = settings()
    key_ids = (require(s.result_key_id, "SECUREFACE_RESULT_KEY_ID"), *s.result_previous_key_ids)
    return jwks(KmsSigner(key_id).public_key_der() for key_id in key_ids)


@functools.cache
def audit_log() -> MongoAuditLog:
    """Audit records, kept ``audit_retention_days``."""
    from secureface.adapters.mongo import MongoAuditLog  # no numpy: every function audits

    return MongoAuditLog(_db(), retention_s=settings().audit_retention_days * 24 * 3600)


@functools.cache
def transaction_service() -> TransactionService:
    """The transactions function's use cases: relying parties' transactions."""
    return TransactionService(
        store=transaction_store(),
        registry=registry(),
        audit=audit_log(),
        frontend_url=public_origin(),
    )


@functools.cache
def model_delivery() -> ModelDelivery:
    """Model reading, checking, caching and sealing, refusing a stored manifest below the
    deployed minimum version (the model function's segments and the verify function's models)."""
    floor = settings().min_manifest_version
    if floor < 1:
        raise ConfigurationError(reason="SECUREFACE_MIN_MANIFEST_VERSION is not set")
    return ModelDelivery(model_store(), manifest_public_key, min_version=floor)


@functools.cache
def session_vault() -> SessionVault:
    """Stored sessions and their sealed keys."""
    return SessionVault(session_store(), envelope())


@functools.cache
def key_exchange_service() -> KeyExchangeService:
    """The key-exchange function's use case (``POST /session``)."""
    s = settings()
    return KeyExchangeService(
        delegated_signer(),
        session_vault(),
        transaction_store(),
        ttl_s=s.session_ttl_s,
        allow_motion_only=s.allow_motion_only,
    )


@functools.cache
def model_service() -> ModelService:
    """The model function's use cases (manifest, segments, the hourly expiry check)."""
    return ModelService(model_delivery(), session_vault)


@functools.cache
def _db() -> Database[dict[str, Any]]:
    from secureface.adapters.mongo import connection_uri, database

    s = settings()
    return database(connection_uri(s), s.mongo_db)


#: The manifest roles the verify function loads (the face mesh measures the 3-D motion).
VERIFY_ROLES = ("detector", "embedding", "antispoof", "landmarks")


@functools.cache
def verify_service() -> VerifyService:
    """Verification with the face models (:data:`VERIFY_ROLES`) loaded once per instance, each
    checked against the signed manifest (SHA-256) before an onnxruntime session is created from
    its bytes."""
    from secureface.adapters.mongo_verify import (
        MongoAcceptedStore,
        MongoAttemptStore,
        MongoTemplateStore,
    )
    from secureface.adapters.onnx_runtime import OnnxModel
    from secureface.api.telemetry import observe_verify
    from secureface.verify.analysis import FaceEngine
    from secureface.verify.liveness import Thresholds
    from secureface.verify.lockout import LockoutPolicy
    from secureface.verify.service import VerifyService

    delivery = model_delivery()
    by_role = {m.role: m for m in delivery.manifest_at(int(time.time())).models}
    roles = VERIFY_ROLES
    if missing := set(roles) - set(by_role):
        raise ModelUnavailableError(reason=f"manifest lacks roles {sorted(missing)}")
    model = {role: OnnxModel(delivery.model_bytes(by_role[role])) for role in roles}
    return VerifyService(
        sessions=session_vault(),
        biometrics=biometric_envelope(),
        transactions=transaction_store(),
        result_signer=result_signer(),
        issuer=issuer(),
        templates=MongoTemplateStore(_db()),
        attempts=MongoAttemptStore(_db()),
        audit=audit_log(),
        accepted=MongoAcceptedStore(_db()),
        engine=FaceEngine(
            model["detector"], model["embedding"], model["antispoof"], landmarks=model["landmarks"]
        ),
        models={role: f"{e.name}/{e.version}" for role, e in by_role.items()},
        frame_workers=settings().frame_workers,
        deadline_s=settings().verify_deadline_s,
        thresholds=Thresholds.from_settings(settings()),
        policy=LockoutPolicy(
            max_failures=settings().lockout_max_failures,
            window_s=settings().lockout_window_s,
            lock_s=settings().lockout_lock_s,
        ),
        observe=observe_verify,
    )


def reset() -> None:
    """Forget every cached adapter and client."""
    for getter in (
        settings,
        model_store,
        signer,
        manifest_public_key,
        delegated_signer,
        envelope,
        biometric_envelope,
        session_store,
        transaction_store,
        registry,
        result_signer,
        public_origin,
        edge_token,
        result_jwks,
        transaction_service,
        model_delivery,
        session_vault,
        key_exchange_service,
        model_service,
        audit_log,
        _db,
        verify_service,
    ):
        getter.cache_clear()
    reset_clients()
