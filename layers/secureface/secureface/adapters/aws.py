"""AWS adapters: S3 object store and KMS signer (the only boto3 importers).

Clients are created on first use and cached for warm invocations; :func:`reset_clients` clears
them (tests, or after changing the environment). boto3 reads ``AWS_ENDPOINT_URL`` and
``AWS_REGION`` itself, so the same code talks to moto locally and to AWS in production.
Driver errors are translated into :class:`~secureface.errors.StoreUnavailableError`.
"""

from __future__ import annotations

import functools
import os
from typing import Any, ClassVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from secureface.errors import ConfigurationError, IntegrityError, StoreUnavailableError

#: Every AWS call fails within about 2 × (2 + 3) s: two attempts, each with 2 s to connect and
#: 3 s per read. KMS, S3 and Secrets Manager answer in milliseconds in-region; what these
#: bound is an endpoint that stopped answering, which must become a 503 from the function
#: before Lambda's own timeout (10 s for the smallest function: tests/faults).
_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=3)


@functools.cache
def client(service: str) -> Any:
    """A cached boto3 client for ``service``."""
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (the next call re-reads the environment)."""
    client.cache_clear()


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3ObjectStore:
    """:class:`~secureface.ports.ObjectStore` on an S3 bucket, objects encrypted with SSE-KMS."""

    def __init__(self, bucket: str, kms_key_id: str = "", *, s3: Any = None) -> None:
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self._s3 = s3  # a client of its own (another region: the doctor); else the shared one

    def _client(self) -> Any:
        return self._s3 if self._s3 is not None else client("s3")

    def get(self, key: str) -> bytes | None:
        """Object bytes or ``None``; raises StoreUnavailableError on other failures."""
        try:
            response = self._client().get_object(Bucket=self.bucket, Key=key)
            return bytes(response["Body"].read())
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise StoreUnavailableError(reason=f"s3 get failed: {_error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(reason="s3 unreachable") from exc

    def metadata(self, key: str) -> dict[str, str] | None:
        """User metadata or ``None``; raises StoreUnavailableError on other failures."""
        try:
            response = self._client().head_object(Bucket=self.bucket, Key=key)
            return dict(response.get("Metadata", {}))
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise StoreUnavailableError(reason=f"s3 head failed: {_error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(reason="s3 unreachable") from exc

    def put(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        """Store ``data`` with SSE-KMS under :attr:`kms_key_id` (bucket default if empty)."""
        extra: dict[str, str] = {"ServerSideEncryption": "aws:kms"}
        if self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        try:
            self._client().put_object(
                Bucket=self.bucket, Key=key, Body=data, Metadata=metadata, **extra
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(reason="s3 put failed") from exc


class KmsSigner:
    """:class:`~secureface.ports.Signer` backed by a KMS ``ECC_NIST_P256`` ``SIGN_VERIFY`` key.

    Signs with ``ECDSA_SHA_256`` and ``MessageType=RAW`` (KMS hashes the message); the public key
    is fetched once and cached.
    """

    def __init__(self, key_id: str, *, kms: Any = None) -> None:
        self.key_id = key_id
        self._kms = kms  # a client of its own (another region: the doctor); else the shared one
        self._public_key: bytes | None = None

    def _client(self) -> Any:
        return self._kms if self._kms is not None else client("kms")

    def sign(self, message: bytes) -> bytes:
        """DER signature over ``message``; raises StoreUnavailableError if KMS fails."""
        try:
            response = self._client().sign(
                KeyId=self.key_id,
                Message=message,
                MessageType="RAW",
                SigningAlgorithm="ECDSA_SHA_256",
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(reason="kms sign failed") from exc
        return bytes(response["Signature"])

    def public_key_der(self) -> bytes:
        """DER SPKI of the KMS key; raises StoreUnavailableError if KMS fails."""
        if self._public_key is None:
            try:
                response = self._client().get_public_key(KeyId=self.key_id)
            except (ClientError, BotoCoreError) as exc:
                raise StoreUnavailableError(reason="kms get_public_key failed") from exc
            self._public_key = bytes(response["PublicKey"])
        return self._public_key


class KmsDataKeys:
    """:class:`~secureface.crypto.envelope.DataKeyProvider` on a KMS symmetric key.

    The encryption context names the application and the **purpose** (:data:`PURPOSES`):
    ``session`` for session keys, ``biometric`` for face templates and the fingerprints of
    accepted bursts. A data key made for one purpose does not decrypt under another, and the
    template grants each function only its purposes with ``kms:EncryptionContext:purpose``
    conditions: the key-exchange function cannot make a biometric data key (so it cannot seal
    a chosen template for a subject), the model function cannot open one.
    """

    PURPOSES: ClassVar[tuple[str, ...]] = ("session", "biometric")

    def __init__(self, key_id: str, purpose: str = "session") -> None:
        if purpose not in self.PURPOSES:
            raise ValueError(f"purpose must be one of {self.PURPOSES}")
        self.key_id = key_id
        self.purpose = purpose

    @property
    def context(self) -> dict[str, str]:
        return {"application": "secureface", "purpose": self.purpose}

    def generate(self) -> tuple[bytes, bytes]:
        """A fresh AES-256 data key; raises StoreUnavailableError if KMS fails."""
        try:
            response = client("kms").generate_data_key(
                KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=self.context
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(reason="kms generate_data_key failed") from exc
        return bytes(response["Plaintext"]), bytes(response["CiphertextBlob"])

    def decrypt(self, blob: bytes) -> bytes:
        """The plaintext data key; IntegrityError if KMS refuses the blob."""
        try:
            response = client("kms").decrypt(
                CiphertextBlob=blob, KeyId=self.key_id, EncryptionContext=self.context
            )
        except ClientError as exc:
            if _error_code(exc) in ("InvalidCiphertextException", "IncorrectKeyException"):
                raise IntegrityError(reason="kms refused the data key") from exc
            raise StoreUnavailableError(reason="kms decrypt failed") from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(reason="kms unreachable") from exc
        return bytes(response["Plaintext"])


def secret_string(secret_id: str) -> str:
    """A Secrets Manager secret's string value (e.g. the Atlas connection string)."""
    try:
        return str(client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
    except (ClientError, BotoCoreError, KeyError) as exc:
        raise StoreUnavailableError(reason="secret unavailable") from exc


def parameter_string(name: str) -> str:
    """An SSM parameter's value (the public origin the template records)."""
    try:
        return str(client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    except (ClientError, BotoCoreError, KeyError) as exc:
        raise StoreUnavailableError(reason="parameter unavailable") from exc


def sigv4_headers(method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """Headers signing a request to an ``AWS_IAM`` API route with the caller's AWS credentials.

    Credentials and region come from the usual boto3 chain (environment, profile, role).

    Raises:
        ConfigurationError: no credentials or region are configured.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    session = boto3.session.Session()
    credentials = session.get_credentials()
    region = session.region_name or os.environ.get("AWS_REGION", "")  # Lambda-style name too
    if credentials is None or not region:
        raise ConfigurationError(reason="no AWS credentials/region to sign the admin request")
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
    return dict(request.headers.items())
