"""Create the AWS resources of ``template.yaml`` in moto: keys, buckets, aliases.

moto keeps its state in memory, so this runs at every start; the MongoDB data (on disk) is what
a second run reuses. Resources are configured as the template configures them (SSE-KMS default
encryption, versioning, public access block) so code paths match production.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

MODEL_BUCKET = "secureface-models-local"
FRONTEND_BUCKET = "secureface-frontend-local"
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local-secret",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class Resources:
    """Identifiers of what :func:`create_resources` made."""

    model_bucket: str
    data_key_id: str
    signing_key_id: str
    public_key_der: bytes
    result_key_id: str
    manifest_key_id: str
    manifest_public_key_der: bytes


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=LOCAL_CREDENTIALS["AWS_REGION"],
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def create_resources(endpoint: str) -> Resources:
    """Create (or find) the keys and the model bucket in the moto server at ``endpoint``."""
    kms, s3 = _client("kms", endpoint), _client("s3", endpoint)
    data_key = _ensure_key(
        kms, "alias/secureface-data", KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT"
    )
    signing_key = _ensure_key(
        kms, "alias/secureface-signing", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY"
    )
    result_key = _ensure_key(
        kms, "alias/secureface-results", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY"
    )
    manifest_key = _ensure_key(
        kms, "alias/secureface-manifest", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY"
    )
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if MODEL_BUCKET not in existing:
        s3.create_bucket(Bucket=MODEL_BUCKET)
    s3.put_bucket_versioning(Bucket=MODEL_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=MODEL_BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": data_key,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=MODEL_BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    public_key = bytes(kms.get_public_key(KeyId=signing_key)["PublicKey"])
    manifest_public_key = bytes(kms.get_public_key(KeyId=manifest_key)["PublicKey"])
    return Resources(
        MODEL_BUCKET,
        data_key,
        signing_key,
        public_key,
        result_key,
        manifest_key,
        manifest_public_key,
    )


#: The relying-party registry's secret (template: RelyingPartiesSecret).
REGISTRY_SECRET = "secureface-local/relying-parties"  # noqa: S105 - a secret's name


def put_registry(endpoint: str, document: dict[str, Any]) -> str:
    """Create or replace the relying-party registry secret; returns its id."""
    import json

    sm = _client("secretsmanager", endpoint)
    text = json.dumps(document)
    try:
        sm.create_secret(Name=REGISTRY_SECRET, SecretString=text)
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=REGISTRY_SECRET, SecretString=text)
    return REGISTRY_SECRET


def _ensure_key(kms: Any, alias: str, **spec: str) -> str:
    for entry in kms.list_aliases().get("Aliases", []):
        if entry["AliasName"] == alias and entry.get("TargetKeyId"):
            return str(entry["TargetKeyId"])
    key_id = str(
        kms.create_key(Description=f"SecureFace local {alias}", **spec)["KeyMetadata"]["KeyId"]
    )
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id
