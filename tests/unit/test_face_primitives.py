"""Known-answer tests of the face primitives, without any model: YuNet decoding, letterbox,
similarity estimation, embeddings, anti-spoof crop and pose cues."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pytest

from secureface.errors import BadRequestError, SecureFaceError
from secureface.face import (
    SFACE_TEMPLATE,
    Face,
    antispoof_input,
    cosine_similarity,
    decode_detections,
    embed_face,
    estimate_similarity,
    letterbox,
    pose_cues,
    real_score,
)
from secureface.face.align import transform_points
from secureface.face.antispoof import crop_box
from secureface.face.inference import Tensor

LOGIT_SURE = 1.0  # cls = obj = 1.0 -> score 1.0


def silent_heads() -> dict[str, Tensor]:
    """YuNet outputs where no cell fires."""
    heads: dict[str, Tensor] = {}
    for stride in (8, 16, 32):
        n = (640 // stride) ** 2
        heads[f"cls_{stride}"] = np.zeros((1, n, 1), np.float32)
        heads[f"obj_{stride}"] = np.zeros((1, n, 1), np.float32)
        heads[f"bbox_{stride}"] = np.zeros((1, n, 4), np.float32)
        heads[f"kps_{stride}"] = np.zeros((1, n, 10), np.float32)
    return heads


def fire(
    heads: Mapping[str, Tensor],
    stride: int,
    col: int,
    row: int,
    *,
    cls: float,
    obj: float,
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    kps: tuple[float, ...] = (0.0,) * 10,
) -> None:
    index = row * (640 // stride) + col
    heads[f"cls_{stride}"][0, index, 0] = cls
    heads[f"obj_{stride}"][0, index, 0] = obj
    heads[f"bbox_{stride}"][0, index] = bbox
    heads[f"kps_{stride}"][0, index] = kps


# ----------------------------------------------------------------- YuNet decoding


def test_decode_maps_one_cell_to_box_landmarks_and_score() -> None:
    heads = silent_heads()
    kps = (0.5, -0.5, 1.0, 2.0, 0.0, 0.0, -1.0, 1.0, 3.0, 0.25)
    fire(
        heads, 16, col=10, row=7, cls=0.81, obj=0.64, bbox=(0.5, 0.25, math.log(4.0), 0.0), kps=kps
    )
    (face,) = decode_detections(heads, scale=2.0, image_size=(320, 320))
    # centre = ((10 + 0.5) * 16, (7 + 0.25) * 16) = (168, 116); size = (64, 16); then / 2.
    assert face.box == pytest.approx((68.0, 54.0, 32.0, 8.0))
    expected = [
        ((10 + kx) * 16 / 2, (7 + ky) * 16 / 2) for kx, ky in zip(kps[::2], kps[1::2], strict=True)
    ]
    assert np.array(face.landmarks) == pytest.approx(np.array(expected))
    assert face.score == pytest.approx(math.sqrt(0.81 * 0.64))


def test_decode_drops_cells_below_the_score_threshold() -> None:
    heads = silent_heads()
    fire(heads, 8, col=3, row=3, cls=0.5, obj=0.5)  # score 0.5
    assert decode_detections(heads, scale=1.0, image_size=(640, 640), score_threshold=0.6) == []
    assert len(decode_detections(heads, scale=1.0, image_size=(640, 640), score_threshold=0.4)) == 1


def test_decode_keeps_separate_faces_and_suppresses_overlaps() -> None:
    heads = silent_heads()
    size = (0.0, 0.0, math.log(4.0), math.log(4.0))  # 32 x 32 px at stride 8
    fire(heads, 8, col=10, row=10, cls=0.95, obj=0.95, bbox=size)
    fire(heads, 8, col=11, row=10, cls=0.9, obj=0.9, bbox=size)  # same face, 8 px away
    fire(heads, 32, col=15, row=15, cls=0.8, obj=0.8, bbox=size)  # elsewhere
    faces = decode_detections(heads, scale=1.0, image_size=(640, 640))
    assert [round(f.score, 2) for f in faces] == [0.95, 0.8]


def test_decode_clips_boxes_to_the_image() -> None:
    heads = silent_heads()
    fire(heads, 32, col=0, row=0, cls=1.0, obj=1.0, bbox=(0.0, 0.0, math.log(4.0), 0.0))
    (face,) = decode_detections(heads, scale=1.0, image_size=(100, 100))
    assert face.box == pytest.approx((0.0, 0.0, 64.0, 16.0))


def test_decode_rejects_outputs_of_another_model() -> None:
    with pytest.raises(SecureFaceError):
        decode_detections({"fc1": np.zeros((1, 128), np.float32)}, scale=1.0, image_size=(1, 1))


def test_letterbox_keeps_aspect_pads_and_swaps_to_bgr() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[..., 0] = 255  # pure red
    tensor, scale = letterbox(image)
    assert tensor.shape == (1, 3, 640, 640) and tensor.dtype == np.float32
    assert scale == pytest.approx(3.2)
    assert tensor[0, 2, :320].min() == 255.0 and tensor[0, :2, :320].max() == 0.0  # R last
    assert tensor[0, :, 320:].max() == 0.0  # padding below the image


def test_letterbox_refuses_a_non_rgb_array() -> None:
    with pytest.raises(BadRequestError):
        letterbox(np.zeros((10, 10), np.uint8))


# ----------------------------------------------------------------- similarity


def test_similarity_recovers_a_known_transform_exactly() -> None:
    angle, scale = 0.3, 1.7
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = SFACE_TEMPLATE @ (scale * rotation).T + np.array([5.0, -7.0])
    matrix = estimate_similarity(moved, SFACE_TEMPLATE)
    assert np.allclose(transform_points(matrix, [tuple(p) for p in moved]), SFACE_TEMPLATE)
    assert math.hypot(*matrix[0, :2]) == pytest.approx(1 / scale)


def test_similarity_never_mirrors() -> None:
    mirrored = SFACE_TEMPLATE * np.array([-1.0, 1.0])
    matrix = estimate_similarity(mirrored, SFACE_TEMPLATE)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_similarity_refuses_coinciding_points() -> None:
    with pytest.raises(BadRequestError):
        estimate_similarity(np.ones((5, 2)), SFACE_TEMPLATE)


# ----------------------------------------------------------------- embeddings


class FakeModel:
    """Answers one fixed output, records what it was given."""

    def __init__(self, outputs: dict[str, Tensor], input_name: str = "x") -> None:
        self.outputs = outputs
        self.seen: list[dict[str, Tensor]] = []
        self._names = (input_name,)

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._names

    def run(self, inputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        self.seen.append(dict(inputs))
        return self.outputs


def test_embedding_is_unit_length_and_input_is_rgb_nchw() -> None:
    model = FakeModel({"fc1": np.arange(1, 129, dtype=np.float32)[np.newaxis]}, "data")
    aligned = np.zeros((112, 112, 3), np.uint8)
    aligned[..., 0] = 200
    vector = embed_face(model, aligned)
    assert vector.shape == (128,) and float(np.linalg.norm(vector)) == pytest.approx(1.0)
    fed = model.seen[0]["data"]
    assert fed.shape == (1, 3, 112, 112) and fed[0, 0].min() == 200.0 and fed[0, 1:].max() == 0


def test_embedding_refuses_a_wrong_sized_output() -> None:
    model = FakeModel({"fc1": np.ones((1, 512), np.float32)})
    with pytest.raises(SecureFaceError):
        embed_face(model, np.zeros((112, 112, 3), np.uint8))


def test_cosine_similarity_known_answers() -> None:
    a, b = np.array([1.0, 0.0, 0.0]), np.array([3.0, 4.0, 0.0])
    assert cosine_similarity(a, b) == pytest.approx(0.6)
    assert cosine_similarity(a, -a) == pytest.approx(-1.0)
    with pytest.raises(SecureFaceError):
        cosine_similarity(a, np.zeros(3))


# ----------------------------------------------------------------- anti-spoof

FACE = Face(box=(40.0, 30.0, 20.0, 30.0), landmarks=((45.0, 40.0),) * 5, score=0.9)


def test_antispoof_crop_is_the_square_box_enlarged_1_4_times() -> None:
    # Centre (50, 45), side max(20, 30) * 1.4 = 42.
    assert crop_box(FACE) == (29, 24, 71, 66)


def test_antispoof_input_is_nhwc_rgb_in_unit_range() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[..., 1] = 255
    tensor = antispoof_input(image, FACE)
    assert tensor.shape == (1, 128, 128, 3) and tensor.dtype == np.float32
    assert tensor[0, :, :, 1].min() == 1.0 and tensor[0, :, :, [0, 2]].max() == 0.0


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan")])
def test_antispoof_refuses_a_value_that_is_no_probability(value: float) -> None:
    model = FakeModel({"activation_4": np.array([[value]], np.float32)})
    with pytest.raises(SecureFaceError):
        real_score(model, np.zeros((100, 100, 3), np.uint8), FACE)


# ----------------------------------------------------------------- pose


def test_frontal_template_has_zero_yaw_and_the_documented_pitch() -> None:
    cues = pose_cues([tuple(p) for p in SFACE_TEMPLATE])
    assert abs(cues.yaw) < 0.01
    assert cues.pitch == pytest.approx(0.571, abs=0.001)


def test_nose_right_of_the_eyes_is_positive_yaw_and_lower_nose_more_pitch() -> None:
    points = [tuple(p) for p in SFACE_TEMPLATE]
    frontal = pose_cues(points)
    points[2] = (points[2][0] + 7.0, points[2][1] + 3.5)  # eye distance is about 35 px
    moved = pose_cues(points)
    assert moved.yaw - frontal.yaw == pytest.approx(0.2, abs=0.005)
    assert moved.pitch - frontal.pitch == pytest.approx(0.1, abs=0.005)


def test_pose_cues_ignore_head_roll_and_face_size() -> None:
    points = SFACE_TEMPLATE.copy()
    points[2, 0] += 7.0
    angle = math.radians(25.0)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    rolled = points @ (3.0 * rotation).T + 40.0
    a = pose_cues([tuple(p) for p in points])
    b = pose_cues([tuple(p) for p in rolled])
    assert (b.yaw, b.pitch) == pytest.approx((a.yaw, a.pitch))


def test_pose_cues_refuse_coinciding_eyes() -> None:
    with pytest.raises(BadRequestError):
        pose_cues([(1.0, 1.0)] * 5)
