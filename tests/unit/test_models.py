"""The published model set: catalog <-> files, and each model running once on a real face.

The face is scikit-image's ``astronaut()`` (Eileen Collins, NASA, public domain), 512 x 512 RGB.
Her face was located by drawing the detector box on the picture and checking it by eye: it frames
her face from the hairline to the chin, with the eyes at about y = 105 and the mouth corners at
about y = 145, all between x = 200 and x = 247. ``other-person.jpg`` is a different woman
(tests/data/faces/README.md).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skimage.data
from PIL import Image

from secureface.adapters.onnx_runtime import OnnxModel
from secureface.errors import ConfigurationError
from secureface.face import (
    Face,
    align_face,
    cosine_similarity,
    decode_image,
    detect_faces,
    embed_face,
    real_score,
)

ROOT = Path(__file__).resolve().parents[2]
UPLOADS = ROOT / "s3-uploads"
FACES = ROOT / "tests" / "data" / "faces"
CATALOG: dict[str, Any] = json.loads((ROOT / "model_versions.json").read_text())
ENTRIES: list[dict[str, Any]] = CATALOG["models"]
ROLES = {"detector", "embedding", "antispoof", "landmarks"}

# Her eyes and mouth corners, checked by eye on the picture: x0, y0, x1, y1.
ASTRONAUT_FEATURES = (200.0, 100.0, 247.0, 150.0)
# Centre of her face (between the eyes and the mouth) and the tolerance on the box centre.
ASTRONAUT_FACE_CENTRE = (224.0, 122.0)
CENTRE_TOLERANCE_PX = 15.0


def entry(role: str) -> dict[str, Any]:
    (found,) = [e for e in ENTRIES if e["role"] == role]
    return found


@pytest.fixture(scope="module")
def model() -> dict[str, OnnxModel]:
    return {e["role"]: OnnxModel((UPLOADS / e["file"]).read_bytes()) for e in ENTRIES}


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skimage.data.astronaut())


@pytest.fixture(scope="module")
def astronaut_face(model: dict[str, OnnxModel], astronaut: np.ndarray) -> Face:
    faces = detect_faces(model["detector"], astronaut)
    assert len(faces) == 1
    return faces[0]


# ----------------------------------------------------------------- catalog <-> files


def test_catalog_has_one_model_per_role_with_valid_names() -> None:
    assert CATALOG["manifest_version"] >= 1
    assert sorted(e["role"] for e in ENTRIES) == sorted(ROLES)
    for e in ENTRIES:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,31}", e["name"])
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,31}", e["version"])
        assert re.fullmatch(r"[0-9a-f]{64}", e["sha256"])
        assert re.fullmatch(r"[0-9a-f]{64}", e["source"]["sha256"])
        assert e["licence"] and e["conversion"] and e["notes"]


@pytest.mark.parametrize("item", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_listed_file_exists_with_its_sha256_and_size(item: dict[str, Any]) -> None:
    data = (UPLOADS / item["file"]).read_bytes()
    assert len(data) == item["size"]
    assert hashlib.sha256(data).hexdigest() == item["sha256"]


def test_every_file_in_s3_uploads_is_listed() -> None:
    on_disk = sorted(p.name for p in UPLOADS.iterdir() if p.is_file())
    assert on_disk == sorted(e["file"] for e in ENTRIES)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_model_inputs_and_outputs_match_the_catalog(model: dict[str, OnnxModel], role: str) -> None:
    session = model[role]._session
    (graph_input,) = session.get_inputs()
    spec = entry(role)["input"]
    assert graph_input.name == spec["name"]
    assert list(graph_input.shape) == spec["shape"]
    assert graph_input.type == "tensor(float)" and spec["dtype"] == "float32"
    assert list(model[role].output_names) == entry(role)["outputs"]


def test_model_bytes_that_do_not_parse_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        OnnxModel(b"not an onnx model")


# ----------------------------------------------------------------- detector


def test_detector_finds_the_astronauts_face(astronaut_face: Face) -> None:
    x, y, w, h = astronaut_face.box
    centre = (x + w / 2, y + h / 2)
    assert math.dist(centre, ASTRONAUT_FACE_CENTRE) < CENTRE_TOLERANCE_PX
    assert 70 < w < 140 and 80 < h < 160  # a face-sized box, not the whole picture
    fx0, fy0, fx1, fy1 = ASTRONAUT_FEATURES
    assert x < fx0 and y < fy0 and x + w > fx1 and y + h > fy1
    assert astronaut_face.score > 0.8


def test_detector_landmarks_are_inside_the_box_in_face_order(astronaut_face: Face) -> None:
    x, y, w, h = astronaut_face.box
    for px, py in astronaut_face.landmarks:
        assert x <= px <= x + w and y <= py <= y + h
    eye_l, eye_r, nose, mouth_l, mouth_r = astronaut_face.landmarks
    assert eye_l[0] < nose[0] < eye_r[0] and mouth_l[0] < mouth_r[0]
    assert max(eye_l[1], eye_r[1]) < nose[1] < min(mouth_l[1], mouth_r[1])


# ----------------------------------------------------------------- embedding


def embedding_of(model: dict[str, OnnxModel], image: np.ndarray) -> np.ndarray:
    (face,) = detect_faces(model["detector"], image)
    return embed_face(model["embedding"], align_face(image, face.landmarks))


def test_same_person_is_closer_than_a_different_person(
    model: dict[str, OnnxModel], astronaut: np.ndarray
) -> None:
    reference = embedding_of(model, astronaut)
    # The same photo, shifted (cropped off-centre) and rescaled by about 0.8 with a slight
    # change of aspect ratio.
    crop = Image.fromarray(astronaut[20:400, 60:420]).resize((300, 317), Image.Resampling.BILINEAR)
    shifted = embedding_of(model, np.asarray(crop))
    other = embedding_of(model, decode_image((FACES / "other-person.jpg").read_bytes()))

    same = cosine_similarity(reference, shifted)
    different = cosine_similarity(reference, other)
    assert same > 0.8  # measured 0.97
    assert different < 0.363  # OpenCV's same-person threshold; measured about 0.0
    assert same > different
    assert reference.shape == (128,) and abs(float(np.linalg.norm(reference)) - 1.0) < 1e-5


# ----------------------------------------------------------------- anti-spoof


def test_antispoof_returns_a_probability_for_a_real_face(
    model: dict[str, OnnxModel], astronaut: np.ndarray, astronaut_face: Face
) -> None:
    score = real_score(model["antispoof"], astronaut, astronaut_face)
    assert math.isfinite(score) and 0.0 <= score <= 1.0  # measured 0.40
    # The model looks at the pixels: a flat grey crop scores differently (measured 0.76,
    # "more real" than her face: this model is weak, see docs/MODELS.md).
    grey = real_score(model["antispoof"], np.full_like(astronaut, 128), astronaut_face)
    assert abs(grey - score) > 0.05
