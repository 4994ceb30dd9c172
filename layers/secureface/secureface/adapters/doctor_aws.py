"""The doctor's view of a deployed stack through boto3 (``secureface.doctor.Deployment``)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from secureface.adapters.aws import _CONFIG, KmsSigner, S3ObjectStore, _error_code
from secureface.errors import StoreUnavailableError


class AwsDeployment:
    """One CloudFormation stack and what it names, read with the caller's credentials."""

    def __init__(self, stack_name: str, region: str = "") -> None:
        self.stack_name = stack_name
        self.region = region or None

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region, config=_CONFIG)  # type: ignore[call-overload]

    def stack(self) -> tuple[str, dict[str, str], dict[str, str]]:
        try:
            found = self._client("cloudformation").describe_stacks(StackName=self.stack_name)
        except ClientError as exc:
            if _error_code(exc) == "ValidationError":
                raise LookupError(f"no stack named {self.stack_name}") from exc
            raise StoreUnavailableError(reason="cloudformation unavailable") from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(reason="cloudformation unreachable") from exc
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
            raise StoreUnavailableError(reason=f"secret: {_error_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(reason="secrets manager unreachable") from exc
        value = answer.get("SecretString")
        return None if value is None else str(value)

    def object(self, bucket: str, key: str) -> bytes | None:
        return S3ObjectStore(bucket, "").get(key)

    def public_key(self, key_id: str) -> bytes:
        return KmsSigner(key_id).public_key_der()

    def attachments(self, policy_arn: str) -> int:
        try:
            found = self._client("iam").list_entities_for_policy(PolicyArn=policy_arn)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(reason="iam unavailable") from exc
        return sum(
            len(found.get(kind, [])) for kind in ("PolicyGroups", "PolicyUsers", "PolicyRoles")
        )

    def fetch(self, url: str) -> bytes | None:
        if not url.startswith(("https://", "http://127.0.0.1")):
            return None
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  # nosec B310 - scheme checked above
                return bytes(response.read())
        except (urllib.error.URLError, OSError):
            return None

    def ping(self, uri: str) -> str:
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
        try:
            client.admin.command("ping")
        except PyMongoError as exc:
            return type(exc).__name__  # never the message: it can quote the host and user
        finally:
            client.close()
        return ""
