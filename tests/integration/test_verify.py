"""Verification through the running stack: enroll, verify, every attack and bad input.

Each test acts as its own client (its own source address on 127.0.0.0/8) and its own subjects,
so the lockout of one test never leaks into another.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from secureface.client import AdminClient, ApiError, SecureFaceClient
from secureface.encoding import b64url_encode
from secureface.errors import IntegrityError
from secureface.sessions.sealed import REQUEST_LABEL, seal_message
from secureface.verify.request import encode_payload
from tests.helpers import database, error_body, http, pinned_spki
from tests.synth import (
    genuine_sequence,
    people,
    repeated_frame_sequence,
    swapped_person_sequence,
    tilted_photo_sequence,
    to_jpeg,
)

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
_addresses = count(10)
_subjects = count(1)


def own_client(stack: dict[str, Any]) -> SecureFaceClient:
    """A client with a source address of its own (lockout is per client)."""
    return SecureFaceClient(
        stack["urls"]["api"], pinned_spki(stack), source_ip=f"127.0.0.{next(_addresses)}"
    )


@pytest.fixture
def client(stack: dict[str, Any]) -> SecureFaceClient:
    return own_client(stack)


@pytest.fixture
def enroll(stack: dict[str, Any]) -> Callable[..., str]:
    """Enroll a fresh subject from a photo through the admin route; returns its id."""

    def enroll_photo(photo: Any = None) -> str:
        subject = f"subject-{os.getpid()}-{next(_subjects)}"
        image = to_jpeg(people.astronaut() if photo is None else photo)
        admin = AdminClient(stack["urls"]["api"])
        admin.call(
            "POST", "/admin/enrollments", {"subject_id": subject, "images": [b64url_encode(image)]}
        )
        return subject

    return enroll_photo


@pytest.fixture(autouse=True)
def local_aws_credentials(stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The admin client signs with the local stack's credentials (its only IAM identity)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.setenv(name, stack["env"][name])


def run(
    client: SecureFaceClient, subject: str, frames_for: Callable[[tuple[str, ...]], list[Any]]
) -> Any:
    session = client.open_session()
    frames = [to_jpeg(f) for f in frames_for(session.transcript.challenge)]
    return client.verify(session, subject, frames)


def test_cli_enrolls_then_cli_verifies_a_genuine_challenge(
    stack: dict[str, Any], tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "layers/secureface")}
    photo = tmp_path / "enroll.jpg"
    photo.write_bytes(to_jpeg(people.astronaut()))
    api, subject = stack["urls"]["api"], f"cli-{os.getpid()}"
    cli = [sys.executable, "-m", "secureface"]
    enrolled = subprocess.run(
        [*cli, "enroll", "--api", api, "--subject", subject, str(photo)],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert enrolled.returncode == 0, enrolled.stderr
    assert json.loads(enrolled.stdout)["version"] >= 1
    steps = ("center", "turn_left", "turn_right")
    frames = genuine_sequence(people.astronaut(), steps, seed=7)
    args = []
    for step, frame in zip(steps, frames, strict=True):
        (tmp_path / f"{step}.jpg").write_bytes(to_jpeg(frame))
        args.append(f"{step}={tmp_path / f'{step}.jpg'}")
    key = Path(stack["state_dir"]) / "server-key.pem"
    verified = subprocess.run(
        [*cli, "verify", "--api", api, "--server-key", str(key), "--subject", subject, *args],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["decision"] == "verified"


def test_genuine_challenge_is_verified_with_a_valid_signed_assertion(
    client: SecureFaceClient, enroll: Callable[..., str]
) -> None:
    subject = enroll()
    assertion = run(client, subject, lambda ch: genuine_sequence(people.astronaut(), ch, seed=1))
    # client.verify already checked the delegation chain to the pinned key and the signature.
    assert (assertion.decision, assertion.reason, assertion.subject_id) == (
        "verified",
        "ok",
        subject,
    )


@pytest.mark.parametrize(
    "attack,reason",
    [
        (lambda ch: repeated_frame_sequence(people.astronaut(), ch), "repeated_frame"),
        (lambda ch: tilted_photo_sequence(people.astronaut(), ch), "liveness_failed"),
        (
            lambda ch: swapped_person_sequence(people.astronaut(), people.person("group1"), ch),
            "identity_changed",
        ),
        (lambda ch: genuine_sequence(people.person("group1"), ch), "no_match"),
    ],
    ids=[
        "same-frame-repeated",
        "tilted-flat-photo",
        "person-swapped-mid-sequence",
        "different-person",
    ],
)
def test_attacks_are_refused_with_their_reason(
    client: SecureFaceClient, enroll: Callable[..., str], attack: Any, reason: str
) -> None:
    assertion = run(client, enroll(), attack)
    assert (assertion.decision, assertion.reason) == ("not_verified", reason)


def test_unknown_subject_answers_exactly_like_no_match(client: SecureFaceClient) -> None:
    assertion = run(client, "never-enrolled", lambda ch: genuine_sequence(people.astronaut(), ch))
    assert (assertion.decision, assertion.reason) == ("not_verified", "no_match")


def test_a_session_is_single_use(
    client: SecureFaceClient, enroll: Callable[..., str], stack: dict[str, Any]
) -> None:
    subject = enroll()
    session = client.open_session()
    frames = [
        to_jpeg(f) for f in genuine_sequence(people.astronaut(), session.transcript.challenge)
    ]
    assert client.verify(session, subject, frames).decision == "verified"
    with pytest.raises(ApiError) as again:
        client.verify(session, subject, frames)
    assert (again.value.status, again.value.code) == (401, "session_invalid")


def test_replayed_request_is_refused(client: SecureFaceClient, stack: dict[str, Any]) -> None:
    session = client.open_session()
    frames = [
        to_jpeg(f) for f in genuine_sequence(people.astronaut(), session.transcript.challenge)
    ]
    sealed = seal_message(
        session.keys.request,
        REQUEST_LABEL,
        session.session_id,
        encode_payload("demo", frames, [0, 1, 2]),
    )
    body = json.dumps({"session_id": session.session_id, **sealed}).encode()
    first = http(
        "POST",
        stack["urls"]["api"] + "/verify",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    replay = http(
        "POST",
        stack["urls"]["api"] + "/verify",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    assert first[0] == 200
    assert replay[0] == 401 and error_body(replay[2])["code"] == "session_invalid"


def test_five_failures_lock_the_subject(
    stack: dict[str, Any], client: SecureFaceClient, enroll: Callable[..., str]
) -> None:
    subject = enroll()
    stranger = lambda ch: genuine_sequence(people.person("group1"), ch)  # noqa: E731
    reasons = [run(client, subject, stranger).reason for _ in range(5)]
    assert reasons == ["no_match"] * 5
    # Even the genuine person is now refused, from another client too: the subject is locked.
    genuine = run(own_client(stack), subject, lambda ch: genuine_sequence(people.astronaut(), ch))
    assert (genuine.decision, genuine.reason) == ("locked", "locked")


def test_every_attempt_is_audited_without_biometric_data(
    client: SecureFaceClient, enroll: Callable[..., str], stack: dict[str, Any]
) -> None:
    subject = enroll()
    assertion = run(client, subject, lambda ch: genuine_sequence(people.astronaut(), ch))
    db = database(stack)
    record = db["audit"].find_one({"session_id": assertion.session_id})
    assert record is not None
    assert record["decision"] == "verified" and record["subject_id"] == subject
    assert set(record["models"]) == {"detector", "embedding", "antispoof"}
    assert {"latency_ms", "at", "expire_at"} <= set(record)
    assert not {"frames", "images", "embedding", "similarity", "score"} & set(record)


def test_templates_are_stored_encrypted(stack: dict[str, Any], enroll: Callable[..., str]) -> None:
    subject = enroll()
    doc = database(stack)["templates"].find_one({"_id": subject})
    assert doc is not None
    assert set(doc) == {"_id", "version", "model", "enrolled_at", "edk", "nonce", "ct"}
    assert len(doc["ct"]) == 128 * 4 + 16


def test_re_enrollment_increments_the_version_and_erasure_deletes(
    stack: dict[str, Any], enroll: Callable[..., str], client: SecureFaceClient
) -> None:
    subject = enroll()
    admin = AdminClient(stack["urls"]["api"])
    again = admin.call(
        "POST",
        "/admin/enrollments",
        {"subject_id": subject, "images": [b64url_encode(to_jpeg(people.astronaut()))]},
    )
    assert again["version"] == 2
    assert admin.call("DELETE", f"/admin/enrollments/{subject}") == {
        "subject_id": subject,
        "deleted": True,
    }
    assertion = run(client, subject, lambda ch: genuine_sequence(people.astronaut(), ch))
    assert assertion.reason == "no_match"


# ----------------------------------------------------------------------------- bad input


def sealed_body(session: Any, payload: bytes) -> bytes:
    sealed = seal_message(session.keys.request, REQUEST_LABEL, session.session_id, payload)
    return json.dumps({"session_id": session.session_id, **sealed}).encode()


def png(width: int, height: int, mode: str = "1") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def post_verify(stack: dict[str, Any], body: bytes) -> tuple[int, dict[str, Any]]:
    status, _, answer = http(
        "POST",
        stack["urls"]["api"] + "/verify",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    return status, error_body(answer)


BAD_FRAMES: dict[str, Callable[[bytes], list[bytes]]] = {
    "truncated-jpeg": lambda jpg: [jpg, jpg[: len(jpg) // 2], jpg],
    "non-image-bytes": lambda jpg: [jpg, b"%PDF-1.4 not an image", jpg],
    "20000x20000-png": lambda jpg: [jpg, png(20000, 20000), jpg],
    "zero-frames": lambda jpg: [],
    "fifty-frames": lambda jpg: [jpg] * 50,
}


@pytest.mark.parametrize("case", sorted(BAD_FRAMES))
def test_bad_frames_get_a_4xx_and_store_nothing(
    stack: dict[str, Any], client: SecureFaceClient, case: str
) -> None:
    db = database(stack)
    audits = db["audit"].count_documents({})
    session = client.open_session()
    jpg = to_jpeg(people.astronaut())
    frames = BAD_FRAMES[case](jpg)
    status, body = post_verify(
        stack, sealed_body(session, encode_payload("demo", frames, list(range(len(frames)))))
    )
    assert 400 <= status < 500 and body["code"] in ("bad_request", "payload_too_large")
    assert db["audit"].count_documents({}) == audits


@pytest.mark.parametrize("subject", [{"$ne": None}, {"$gt": ""}, "../admin", ""])
def test_operator_subject_ids_are_refused(
    stack: dict[str, Any], client: SecureFaceClient, subject: Any
) -> None:
    session = client.open_session()
    meta = json.dumps(
        {"subject_id": subject, "frames": [{"size": 3, "captured_at": 0}] * 3}
    ).encode()
    payload = len(meta).to_bytes(4, "big") + meta + b"abc" * 3
    status, body = post_verify(stack, sealed_body(session, payload))
    assert status == 400 and body["code"] == "bad_request"


def test_garbage_ciphertext_and_wrong_key_get_400(
    stack: dict[str, Any], client: SecureFaceClient
) -> None:
    session = client.open_session()
    garbage = json.dumps(
        {"session_id": session.session_id, "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "Z" * 64}
    ).encode()
    assert post_verify(stack, garbage) == (
        400,
        {"statusCode": 400, "code": "integrity_error", "message": "Integrity check failed"},
    )
    other = client.open_session()
    wrong_key = seal_message(other.keys.request, REQUEST_LABEL, session.session_id, b"x")
    status, body = post_verify(
        stack, json.dumps({"session_id": client.open_session().session_id, **wrong_key}).encode()
    )
    assert (status, body["code"]) == (400, "integrity_error")


@pytest.mark.parametrize(
    "images,why",
    [
        (lambda: [Image.new("RGB", (640, 480), "gray")], "image 0: no face found"),
        (lambda: [people.astronaut(), people.group()], "image 1: 5 faces found, expected one"),
    ],
)
def test_enrollment_without_exactly_one_face_is_refused(
    stack: dict[str, Any], images: Any, why: str
) -> None:
    subject = f"refused-{next(_subjects)}"
    encoded = [b64url_encode(to_jpeg(np.asarray(i))) for i in images()]
    with pytest.raises(ApiError) as refused:
        AdminClient(stack["urls"]["api"]).call(
            "POST", "/admin/enrollments", {"subject_id": subject, "images": encoded}
        )
    assert refused.value.status == 422 and refused.value.code == "enrollment_rejected"
    assert why in refused.value.message
    assert database(stack)["templates"].find_one({"_id": subject}) is None


def test_the_answer_opens_only_with_the_session_response_key(
    client: SecureFaceClient, enroll: Callable[..., str]
) -> None:
    subject = enroll()
    session = client.open_session()
    other = client.open_session()
    frames = [
        to_jpeg(f) for f in genuine_sequence(people.astronaut(), session.transcript.challenge)
    ]
    forged_session = type(session)(
        transcript=session.transcript,
        keys=type(session.keys)(session.keys.model, session.keys.request, other.keys.response),
    )
    with pytest.raises(IntegrityError):
        client.verify(forged_session, subject, frames)
