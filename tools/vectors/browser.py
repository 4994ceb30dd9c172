"""The browser's cross-language vectors: ``tests/vectors/face.json``, ``verify.json`` and
``challenge.json``.

``face.json``: the Python face pipeline (secureface.face) on a small real picture (a 160 x 128
crop of scikit-image's astronaut, stored as raw RGB), so that the JavaScript port in
``frontend/src/capture/face.js`` can be checked against it in node (``frontend/test/face.test.js``):
letterbox geometry, YuNet decode + NMS (on sparse synthetic head outputs, exactly, and on the
real model output, within a pixel), the anti-spoof crop box, pose cues, the anti-spoof score.

``verify.json``: PROTOCOL.md section 5 with fixed keys and nonces: the verify payload container,
the request (with the person's consent) sealed under K_request, the answer sealed under
K_response, and the constants both sides share (consent notice, locales, decisions, hints).

``challenge.json``: PROTOCOL.md section 3's challenge (secureface.sessions.challenge): its
constants (palette, moves, bounds), challenges drawn by ``new_challenge`` (with a seeded random
source in place of :mod:`secrets`) that the page must accept, each with the colour and the move
at chosen times, and altered ones that ``Challenge.from_json`` refuses, which the page must
refuse too (``frontend/test/challenge.test.js``).

Deterministic: re-running reproduces the files byte for byte (numbers rounded). Written by
``python -m vectors`` (:mod:`vectors`).
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image

from secureface.encoding import b64url_encode, canonical_json
from secureface.errors import IntegrityError
from secureface.face.antispoof import crop_box, real_score
from secureface.face.detector import STRIDES, Face, decode_detections, detect_faces, letterbox
from secureface.face.pose import pose_cues
from secureface.sessions import challenge as challenges
from secureface.sessions.sealed import REQUEST_LABEL, RESPONSE_LABEL
from secureface.transactions.model import CONSENT_NOTICE, LOCALES
from secureface.transactions.result import DECISIONS
from secureface.verify.answer import ANSWER_TYPE, ASSURANCES, CLIENT_HINTS, VerifyAnswer
from secureface.verify.request import Consent, encode_payload

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "s3-uploads"
NOW = 1_764_316_800
#: The test picture: this box of the astronaut, shrunk to 160 x 128 (eye distance ~35 px).
CROP, SIZE = (130, 20, 330, 180), (160, 128)


def r(value: float, digits: int = 6) -> float:
    return round(float(value), digits)


def face_json(face: Face) -> dict[str, Any]:
    return {
        "box": [r(v) for v in face.box],
        "landmarks": [[r(x), r(y)] for x, y in face.landmarks],
        "score": r(face.score),
    }


def test_picture() -> np.ndarray:
    import skimage.data

    picture = Image.fromarray(skimage.data.astronaut()).crop(CROP)
    small = picture.resize(SIZE, Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(small, dtype=np.uint8))


def sparse_outputs() -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """A few non-zero YuNet cells (two overlapping candidates, one apart, one under threshold)."""
    cells: list[dict[str, Any]] = [
        {"stride": 8, "index": 1234, "cls": 0.95, "obj": 0.9, "bbox": [0.3, -0.2, 1.9, 2.1]},
        {"stride": 8, "index": 1235, "cls": 0.9, "obj": 0.85, "bbox": [-0.4, -0.1, 1.8, 2.0]},
        {"stride": 16, "index": 300, "cls": 0.8, "obj": 0.8, "bbox": [0.5, 0.5, 1.2, 1.4]},
        {"stride": 32, "index": 77, "cls": 0.5, "obj": 0.6, "bbox": [0.1, 0.2, 0.5, 0.6]},
        {"stride": 32, "index": 390, "cls": 1.2, "obj": 0.99, "bbox": [0.9, 0.1, 2.5, 11.0]},
    ]
    outputs: dict[str, np.ndarray] = {}
    for stride in STRIDES:
        count = (640 // stride) ** 2
        outputs[f"cls_{stride}"] = np.zeros((1, count, 1), np.float32)
        outputs[f"obj_{stride}"] = np.zeros((1, count, 1), np.float32)
        outputs[f"bbox_{stride}"] = np.zeros((1, count, 4), np.float32)
        outputs[f"kps_{stride}"] = np.zeros((1, count, 10), np.float32)
    for n, cell in enumerate(cells):
        s, i = cell["stride"], cell["index"]
        cell["kps"] = [round(0.1 * ((n + k) % 7) - 0.3, 2) for k in range(10)]
        outputs[f"cls_{s}"][0, i, 0] = cell["cls"]
        outputs[f"obj_{s}"][0, i, 0] = cell["obj"]
        outputs[f"bbox_{s}"][0, i] = cell["bbox"]
        outputs[f"kps_{s}"][0, i] = cell["kps"]
    return cells, outputs


def face_vectors() -> dict[str, Any]:
    from secureface.adapters.onnx_runtime import OnnxModel

    detector = OnnxModel((MODELS / "yunet-2023mar.onnx").read_bytes())
    antispoof = OnnxModel((MODELS / "antispoof-human-3.3.6.onnx").read_bytes())
    image = test_picture()
    tensor, scale = letterbox(image)
    faces = detect_faces(detector, image)
    assert len(faces) == 1, faces
    face = faces[0]
    cues = pose_cues(face.landmarks)
    sizes = [(512, 512), (1280, 720), (640, 480), (720, 1280), (160, 128), (1, 1000),
             (1000, 3), (641, 640), (333, 777), (1920, 1080)]  # fmt: skip
    letterboxes = []
    for width, height in sizes:
        _, s = letterbox(np.zeros((height, width, 3), np.uint8))
        letterboxes.append({"width": width, "height": height, "scale": s,
                            "new_width": min(640, max(1, round(width * s))),
                            "new_height": min(640, max(1, round(height * s)))})  # fmt: skip
    crops = []
    for box in [face.box, (0.5, 0.5, 5.0, 5.0), (10.0, 20.0, 25.0, 35.0), (-3.0, 2.5, 7.5, 2.5),
                (100.25, 40.75, 60.5, 71.25)]:  # fmt: skip
        fake = Face(box=tuple(box), landmarks=face.landmarks, score=1.0)  # type: ignore[arg-type]
        crops.append({"box": [r(v, 9) for v in box], "crop": list(crop_box(fake))})
    poses = []
    for marks in [face.landmarks, ((10, 10), (30, 14), (24, 22), (14, 30), (28, 32)),
                  ((50, 40), (90, 40), (62, 60), (55, 75), (85, 75))]:  # fmt: skip
        c = pose_cues(marks)
        poses.append({"landmarks": [[r(x, 9), r(y, 9)] for x, y in marks],
                      "yaw": r(c.yaw, 12), "pitch": r(c.pitch, 12)})  # fmt: skip
    cells, outputs = sparse_outputs()
    decoded = decode_detections(outputs, scale=1.6, image_size=(400, 300))
    grey = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    x, y, w, h = face.box
    rows = slice(max(0, math.floor(y)), min(image.shape[0], math.ceil(y + h)))
    cols = slice(max(0, math.floor(x)), min(image.shape[1], math.ceil(x + w)))
    face_light = np.percentile(np.floor(grey[rows, cols]), 90, method="inverted_cdf")
    return {
        "description": "secureface.face on a real picture (python -m vectors)",
        "image": {
            "width": image.shape[1],
            "height": image.shape[0],
            "rgb": base64.b64encode(image.tobytes()).decode(),
            "source": f"skimage astronaut, crop {CROP}, resized bilinear to {SIZE}",
        },
        "letterbox": {
            "scale": scale,
            "tensor_channel_sums": [int(tensor[0, c].astype(np.int64).sum()) for c in range(3)],
        },
        "faces": [face_json(f) for f in faces],
        "pose": {"yaw": r(cues.yaw), "pitch": r(cues.pitch)},
        "antispoof": {"crop": list(crop_box(face)), "score": r(real_score(antispoof, image, face))},
        "mean_luma": r(float(grey.mean()), 4),
        "face_light_p90": int(face_light),
        "letterbox_cases": letterboxes,
        "crop_cases": crops,
        "pose_cases": poses,
        "decode_case": {
            "scale": 1.6,
            "image_size": [400, 300],
            "cells": cells,
            "faces": [face_json(f) for f in decoded],
        },
    }


def verify_vectors() -> dict[str, Any]:
    session_id = b64url_encode(bytes(range(200, 216)))
    transaction_id = b64url_encode(bytes(range(16, 32)))
    request_key = hashlib.sha256(b"request key").digest()
    response_key = hashlib.sha256(b"response key").digest()
    frames = [b"\xff\xd8\xff\xe0frame-zero", b"\xff\xd8\xff\xe0frame one!", b"\xff\xd8\xffthird"]
    times = [-4, 83, 5991]
    consent = Consent(CONSENT_NOTICE, "hi", NOW * 1000 + 1234, transaction_id)
    payload = encode_payload(frames, times, consent)
    request_nonce, response_nonce = bytes(range(12)), bytes(range(12, 24))
    aad_request = REQUEST_LABEL + b"\x00" + session_id.encode()
    aad_response = RESPONSE_LABEL + b"\x00" + session_id.encode()
    answer = VerifyAnswer("verified", "", "light", transaction_id, session_id).to_json()
    sealed = AESGCM(response_key).encrypt(response_nonce, canonical_json(answer), aad_response)
    return {
        "description": "PROTOCOL.md section 5 (python -m vectors)",
        "session_id": session_id,
        "transaction_id": transaction_id,
        "request_key": request_key.hex(),
        "response_key": response_key.hex(),
        "request": {
            "consent": consent.to_json(),
            "frames": [b64url_encode(f) for f in frames],
            "times_ms": times,
            "payload": b64url_encode(payload),
            "nonce": b64url_encode(request_nonce),
            "ciphertext": b64url_encode(
                AESGCM(request_key).encrypt(request_nonce, payload, aad_request)
            ),
        },
        "answer": {
            "body": {"nonce": b64url_encode(response_nonce), "ciphertext": b64url_encode(sealed)},
            "plaintext": b64url_encode(canonical_json(answer)),
            "answer": answer,
        },
        "constants": {
            "consent_notice": CONSENT_NOTICE,
            "locales": list(LOCALES),
            "decisions": list(DECISIONS),
            "hints": ["", *CLIENT_HINTS],
            "assurances": list(ASSURANCES),
            "answer_type": ANSWER_TYPE,
        },
    }


def _drawn(seed: int, mode: str, move_ms: int = challenges.MOVE_MS) -> challenges.Challenge:
    """``new_challenge`` with a seeded random source in place of :mod:`secrets`."""
    rng = random.Random(seed)
    with mock.patch.object(challenges.secrets, "randbelow", rng.randrange):
        return challenges.new_challenge(mode, move_ms)


def _at(challenge: challenges.Challenge, t: int) -> dict[str, Any]:
    """The colour and the move at ``t`` ms (None outside the capture), from the Python side."""
    colour = next((c for c, a, b in challenge.light_intervals() if a <= t < b), None)
    windows = [challenge.move_window(i) for i in range(len(challenge.moves))]
    index = next((i for i, (a, b) in enumerate(windows) if a <= t < b), None)
    move = None if index is None else challenge.moves[index]
    start = None if index is None else challenge.move_window(index)[0]
    return {"t": t, "colour": colour, "move": move, "move_start": start}


def _refused(good: dict[str, Any]) -> list[dict[str, Any]]:
    """Alterations of ``good`` that ``Challenge.from_json`` refuses (checked here)."""
    light = good["light"]
    (c0, d0), (c1, d1) = light[0], light[1]
    alternating = [["red" if i % 2 else "blue", 1000] for i in range(6)]

    def lights(*intervals: list[Any]) -> dict[str, Any]:
        return {**good, "light": list(intervals)}

    def without(key: str) -> dict[str, Any]:
        return {k: v for k, v in good.items() if k != key}

    cases: list[tuple[str, Any]] = [
        ("unknown mode", {**good, "mode": "none"}),
        ("no center first", {**good, "moves": ["left", "center", "up", "right"]}),
        ("a move repeated", {**good, "moves": ["center", "left", "left", "up"]}),
        ("an unknown move", {**good, "moves": ["center", "nod", "up", "left"]}),
        ("too few moves", {**good, "moves": ["center", "left", "up"]}),
        ("too many moves", {**good, "moves": ["center", "left", "up", "right", "down"]}),
        ("move_ms under 500", {**good, "move_ms": 400}),
        ("move_ms over 5000", {**good, "move_ms": 5050}),
        ("light in motion mode", {**good, "mode": "motion"}),
        ("too few intervals", lights(*alternating)),
        ("a colour not in the palette", lights(["white", d0], *light[1:])),
        ("the same colour twice in a row", lights([c1, d0], *light[1:])),
        ("an interval under 350 ms", lights([c0, 300], [c1, d1 + d0 - 300], *light[2:])),
        ("an interval over 1050 ms", lights([c0, 1100], [c1, d1 + d0 - 1100], *light[2:])),
        ("not covering the capture", lights(*light[:-1])),
        ("running past the capture", lights(*light[:-1], [light[-1][0], light[-1][1] + 50])),
        ("no light field", without("light")),
        ("no moves field", without("moves")),
        ("an interval that is not a pair", lights([c0, d0, 1], *light[1:])),
    ]
    for why, raw in cases:
        try:
            challenges.Challenge.from_json(raw)
        except IntegrityError:
            continue
        raise AssertionError(f"Challenge.from_json accepted {why}: {raw}")
    return [{"why": why, "challenge": raw} for why, raw in cases]


def _times(challenge: challenges.Challenge) -> list[int]:
    """Every edge of the light and move schedules, and just outside the capture."""
    intervals = challenge.light_intervals()
    edges = {0, *(a for _, a, _ in intervals), *(b - 1 for _, _, b in intervals)}
    edges |= {challenge.move_window(i)[0] for i in range(len(challenge.moves))}
    return [-1, *sorted(edges), challenge.capture_ms - 1, challenge.capture_ms]


def challenge_vectors() -> dict[str, Any]:
    drawn = [_drawn(seed, challenges.MODE_LIGHT) for seed in range(12)]
    drawn += [_drawn(100, challenges.MODE_LIGHT, 2000), _drawn(101, challenges.MODE_MOTION)]
    accepted = [
        {
            "challenge": challenge.to_json(),
            "capture_ms": challenge.capture_ms,
            "at": [_at(challenge, t) for t in _times(challenge)],
        }
        for challenge in drawn
    ]
    return {
        "description": "PROTOCOL.md section 3, the challenge (python -m vectors)",
        "constants": {
            "palette": {name: list(rgb) for name, rgb in challenges.PALETTE.items()},
            "center": challenges.CENTER,
            "directions": list(challenges.DIRECTIONS),
            "move_count": challenges.MOVE_COUNT,
            "move_ms": challenges.MOVE_MS,
            "modes": list(challenges.MODES),
            "light_min_ms": challenges.LIGHT_MIN_MS,
            "light_max_ms": challenges.LIGHT_MAX_MS,
            "min_intervals": challenges.MIN_INTERVALS,
        },
        "accepted": accepted,
        "refused": _refused(drawn[0].to_json()),
    }
