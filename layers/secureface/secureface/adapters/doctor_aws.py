"""The doctor's view of a deployed stack through boto3 (``secureface.doctor.Deployment``).

Every client is made for the stack's region (``--region``, else the AWS CLI's), the S3 and KMS
ones included: the package's cached clients (:func:`secureface.adapters.aws.client`) follow
the environment's region, which is not necessarily the stack's.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from secureface.adapters.aws import _CONFIG, KmsSigner, S3ObjectStore, _error_code
from secureface.errors import StoreUnavailableError

#: ``--ping`` gives each MongoDB this long to answer (server selection and connection).
PING_TIMEOUT_S = 5.0


class AwsDeployment:
    """One CloudFormation stack and what it names, read with the caller's credentials."""

    def __init__(self, stack_name: str, region: str = "", ping_timeout_s: float = PING_TIMEOUT_S):
        self.stack_name = stack_name
        self.region = region or None
        self.ping_timeout_s = ping_timeout_s
        self._clients: dict[str, Any] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(  # type: ignore[call-overload]
                service, region_name=self.region, config=_CONFIG
            )
        return self._clients[service]

    def stack(self) -> tuple[str, dict[str, str], dict[str, str]]:
        try:
            found = self._client("cloudformation").describe_stacks(StackName=self.stack_name)
        except ClientError as exc:
            if _error_code(exc) == "ValidationError":
                raise LookupError(f"no stack named {self.stack_name}") from exc
            raise StoreUnavailableError(reason=f"cloudformation: {_error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(reason=f"cloudformation: {type(exc).__name__}") from exc
        stack = found["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        parameters = {
            p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])
        }
        return str(stack["StackStatus"]), outputs, parameters

    def secret(self, secret_id: str) -> str | None:
        try:
            answer = self._client("secretsmanager").get_secret_value(SecretId=secret_id)
        except ClientError as exc:
            if _error_code(exc) == "ResourceNotFoundException":  # created without a value
                return None
            raise StoreUnavailableError(reason=f"secretsmanager: {_error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(reason=f"secretsmanager: {type(exc).__name__}") from exc
        value = answer.get("SecretString")
        return None if value is None else str(value)

    def object(self, bucket: str, key: str) -> bytes | None:
        return S3ObjectStore(bucket, s3=self._client("s3")).get(key)

    def public_key(self, key_id: str) -> bytes:
        return KmsSigner(key_id, kms=self._client("kms")).public_key_der()

    def attachments(self, policy_arn: str) -> int:
        try:
            pages = self._client("iam").get_paginator("list_entities_for_policy")
            return sum(
                len(page.get(kind, []))
                for page in pages.paginate(PolicyArn=policy_arn)
                for kind in ("PolicyGroups", "PolicyUsers", "PolicyRoles")
            )
        except ClientError as exc:
            raise StoreUnavailableError(reason=f"iam: {_error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(reason=f"iam: {type(exc).__name__}") from exc

    def fetch(self, url: str) -> bytes | None:
        # https only; http only to this machine (the local stack, the tests).
        if not url.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
            return None
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  # nosec B310 - scheme checked above
                return bytes(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def ping(self, uri: str) -> str:
        from pymongo import MongoClient

        timeout_ms = int(self.ping_timeout_s * 1000)
        # Never an exception's message: it can quote the host, the user or the URI.
        try:  # parsing the URI (and, for mongodb+srv, its DNS lookup) raises here
            client: MongoClient[dict[str, Any]] = MongoClient(
                uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
            )
        except Exception as exc:
            return f"the connection string is not usable ({type(exc).__name__})"
        try:
            client.admin.command("ping")
        except Exception as exc:
            return f"MongoDB did not answer ({type(exc).__name__})"
        finally:
            client.close()
        return ""
