"""Demo data for the local stack: publish the models, write the frontend's config."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from devstack.functions import REPO
from secureface.adapters.aws import KmsSigner, S3ObjectStore, reset_clients
from secureface.encoding import b64url_encode
from secureface.models.catalog import load_catalog
from secureface.models.publish import publish_at

if TYPE_CHECKING:
    from devstack.stack import Stack

log = logging.getLogger(__name__)
#: Local manifests live a day; a restart re-publishes (moto starts empty).
LOCAL_MANIFEST_TTL_S = 24 * 3600
#: Enrolled from scikit-image's astronaut at every start; the page offers it by default.
DEMO_SUBJECT = "demo"


def seed(stack: Stack) -> None:
    """Publish ``s3-uploads/`` under a signed manifest."""
    assert stack.resources is not None
    reset_clients()
    res = stack.resources
    result = publish_at(
        load_catalog(REPO / "model_versions.json"),
        REPO / "s3-uploads",
        S3ObjectStore(res.model_bucket, res.data_key_id),
        KmsSigner(res.manifest_key_id),
        now=int(time.time()),
        ttl_s=LOCAL_MANIFEST_TTL_S,
    )
    log.info("published manifest v%s (%d models)", result.manifest_version, len(result.uploaded))


def demo_face_png() -> bytes:
    """The demo subject's enrollment photo: scikit-image's ``astronaut`` (public domain)."""
    import io

    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="PNG")
    return buffer.getvalue()


def enroll_demo(stack: Stack) -> dict[str, object]:
    """Enroll the demo subject through the real admin route (SigV4 with the local credentials)."""
    from secureface.client import AdminClient

    body = {"subject_id": DEMO_SUBJECT, "images": [b64url_encode(demo_face_png())]}
    result = AdminClient(stack.urls["api"], timeout_s=120).call("POST", "/admin/enrollments", body)
    log.info("enrolled demo subject %r (template v%s)", DEMO_SUBJECT, result.get("version"))
    return result
