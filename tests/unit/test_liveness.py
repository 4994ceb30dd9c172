"""Liveness, enrollment quality and matching.

Two parts: the rules of ``check_liveness`` at each threshold boundary on hand-built
``FrameAnalysis`` values, then the whole pipeline with the REAL published models on real photos
and the synthetic sequences of tests/synth (genuine head turns and attacks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageFilter

from secureface.errors import BadRequestError
from secureface.face import Face, cosine_similarity
from secureface.face.inference import RGBImage
from secureface.verify.analysis import (
    EnrollmentQualityError,
    FaceQualityError,
    FrameAnalysis,
    fingerprint_distance,
)
from secureface.verify.liveness import Thresholds, check_liveness
from secureface.verify.match import match_images
from tests.synth import (
    genuine_sequence,
    people,
    repeated_frame_sequence,
    swapped_person_sequence,
    tilted_photo_sequence,
)
from tests.synth.models import face_engine

LEFT_FIRST = ("center", "turn_left", "turn_right")
RIGHT_FIRST = ("center", "turn_right", "turn_left")
DEFAULT = Thresholds()
FACE = Face(box=(0, 0, 100, 120), landmarks=((30, 40), (70, 40), (50, 60), (35, 80), (65, 80)),
            score=0.9)  # fmt: skip
RNG = np.random.default_rng(7)
BASE = RNG.normal(size=128)
BASE /= np.linalg.norm(BASE)
ORTHOGONAL = RNG.normal(size=128)
ORTHOGONAL -= ORTHOGONAL @ BASE * BASE
ORTHOGONAL /= np.linalg.norm(ORTHOGONAL)


def embedding(cosine: float) -> np.ndarray:
    """A unit vector whose cosine to BASE is ``cosine``."""
    return (cosine * BASE + np.sqrt(1 - cosine**2) * ORTHOGONAL).astype(np.float32)


def fingerprint(seed: int) -> bytes:
    return np.random.default_rng(seed).integers(-100, 100, 256).astype(np.int8).tobytes()


def frame(yaw: float, seed: int, **changes: object) -> FrameAnalysis:
    """A valid one-face frame with this yaw and a fingerprint of its own."""
    base = FrameAnalysis(
        face_count=1, face=FACE, yaw=yaw, pitch=0.57, embedding=embedding(1.0), antispoof=0.6,
        sharpness=200.0, face_size=60.0, fingerprint=fingerprint(seed),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def good_frames() -> list[FrameAnalysis]:
    """center, turn_left, turn_right, each comfortably within every rule."""
    return [frame(0.0, 1), frame(0.35, 2), frame(-0.35, 3)]


def decide(frames: Sequence[FrameAnalysis], **thresholds: float) -> str:
    return check_liveness(LEFT_FIRST, frames, Thresholds(**thresholds)).reason


# ----------------------------------------------------------------- rules, hand-built frames


def test_frames_within_every_rule_pass_and_match_the_center_frame() -> None:
    result = check_liveness(LEFT_FIRST, good_frames())
    assert (result.passed, result.reason, result.match_frame) == (True, "ok", 0)


def test_the_reference_is_the_most_frontal_center_frame() -> None:
    challenge = ("center", "turn_left", "center", "turn_right")
    frames = [frame(0.15, 1), frame(0.2, 2), frame(0.0, 3), frame(-0.2, 4)]
    # Relative to frame 0 (yaw 0.15) the left turn would move only 0.05: frame 2 is the reference.
    assert check_liveness(challenge, frames).match_frame == 2
    frames[0], frames[2] = replace(frames[0], yaw=0.01), replace(frames[2], yaw=0.15)
    assert check_liveness(challenge, frames).match_frame == 0


@pytest.mark.parametrize(("count", "reason"), [(0, "no_face"), (2, "multiple_faces")])
def test_a_frame_without_exactly_one_face_fails(count: int, reason: str) -> None:
    frames = good_frames()
    frames[1] = FrameAnalysis(count, None, None, None, None, None, None, None, fingerprint(9))
    assert decide(frames) == reason


def test_a_face_below_the_minimum_size_counts_as_no_face() -> None:
    frames = good_frames()
    frames[2] = replace(frames[2], face_size=DEFAULT.min_face_size)
    assert decide(frames) == "ok"
    frames[2] = replace(frames[2], face_size=DEFAULT.min_face_size - 0.5)
    assert decide(frames) == "no_face"


def test_two_frames_closer_than_the_distinct_limit_are_a_repeated_frame() -> None:
    frames = good_frames()
    first = np.frombuffer(frames[0].fingerprint, dtype=np.int8).astype(np.int16)
    step = np.where(np.arange(256) % 2 == 0, 6, 7)  # mean 6.5 / 32 = 0.203 >= 0.2
    frames[2] = replace(frames[2], fingerprint=(first + step).astype(np.int8).tobytes())
    assert fingerprint_distance(frames[0].fingerprint, frames[2].fingerprint) >= 0.2
    assert decide(frames) == "ok"
    frames[2] = replace(frames[2], fingerprint=(first + 6).astype(np.int8).tobytes())  # 0.19
    assert decide(frames) == "repeated_frame"


def test_a_frame_of_another_identity_fails() -> None:
    frames = good_frames()
    frames[1] = replace(frames[1], embedding=embedding(0.37))
    assert decide(frames) == "ok"
    frames[1] = replace(frames[1], embedding=embedding(0.35))
    assert decide(frames) == "identity_changed"


@pytest.mark.parametrize("yaw", [0.26, -0.26])
def test_a_center_frame_that_is_not_frontal_fails(yaw: float) -> None:
    frames = good_frames()
    frames[0] = replace(frames[0], yaw=yaw * 0.96)  # 0.2496: inside the 0.25 limit
    frames[1], frames[2] = replace(frames[1], yaw=yaw + 0.35), replace(frames[2], yaw=yaw - 0.35)
    assert decide(frames) == "ok"
    frames[0] = replace(frames[0], yaw=yaw)
    assert decide(frames) == "liveness_failed"


@pytest.mark.parametrize("turn", [1, 2], ids=["turn_left", "turn_right"])
def test_a_turn_smaller_than_the_minimum_change_fails(turn: int) -> None:
    sign = 1.0 if turn == 1 else -1.0
    frames = good_frames()
    frames[0] = replace(frames[0], yaw=0.05)
    frames[turn] = replace(frames[turn], yaw=0.05 + sign * 0.19)
    assert decide(frames) == "ok"
    frames[turn] = replace(frames[turn], yaw=0.05 + sign * 0.17)
    assert decide(frames) == "liveness_failed"


def test_both_turns_the_same_way_fail() -> None:
    frames = good_frames()
    frames[2] = replace(frames[2], yaw=0.35)  # "turn_right" moved the cue like turn_left
    assert decide(frames) == "liveness_failed"


def test_turns_in_the_mirrored_direction_fail() -> None:
    frames = good_frames()
    frames[1], frames[2] = replace(frames[1], yaw=-0.35), replace(frames[2], yaw=0.35)
    assert decide(frames) == "liveness_failed"


def test_a_low_anti_spoof_score_fails() -> None:
    frames = good_frames()
    frames[1] = replace(frames[1], antispoof=DEFAULT.antispoof_min)
    assert decide(frames) == "ok"
    frames[1] = replace(frames[1], antispoof=DEFAULT.antispoof_min - 0.01)
    assert decide(frames) == "spoof_suspected"


def test_the_first_failing_rule_in_order_gives_the_reason() -> None:
    frames = good_frames()
    frames[2] = replace(frames[2], yaw=0.35, antispoof=0.01, embedding=embedding(0.1))
    assert decide(frames) == "identity_changed"
    frames[2] = replace(frames[2], embedding=embedding(1.0))
    assert decide(frames) == "liveness_failed"
    frames[2] = replace(frames[2], fingerprint=frames[0].fingerprint)
    assert decide(frames) == "repeated_frame"


def test_a_failed_decision_names_no_match_frame_and_explains_itself() -> None:
    frames = good_frames()
    frames[1] = replace(frames[1], yaw=0.1)
    result = check_liveness(LEFT_FIRST, frames)
    assert (result.passed, result.match_frame) == (False, None)
    assert "frame 1 (turn_left)" in result.detail


@pytest.mark.parametrize(
    "challenge",
    [("center", "turn_left"), ("center", "turn_left", "nod"), ("turn_left", "turn_right")],
)
def test_a_challenge_without_every_step_is_refused(challenge: tuple[str, ...]) -> None:
    frames = [frame(0.0, i) for i in range(len(challenge))]
    with pytest.raises(BadRequestError):
        check_liveness(challenge, frames)


def test_one_frame_per_step_is_required() -> None:
    with pytest.raises(BadRequestError):
        check_liveness(LEFT_FIRST, good_frames()[:2])


# ----------------------------------------------------------------- real models, real photos


def run(challenge: Sequence[str], frames: Sequence[RGBImage]) -> tuple[str, int | None]:
    result = check_liveness(challenge, [face_engine().analyze(f) for f in frames])
    return result.reason, result.match_frame


@pytest.mark.parametrize("challenge", [LEFT_FIRST, RIGHT_FIRST], ids=["left", "right"])
@pytest.mark.parametrize("name", ["astronaut", "group1", "group0"])
def test_a_genuine_head_turn_passes(name: str, challenge: tuple[str, ...]) -> None:
    frames = genuine_sequence(people.person(name), challenge)
    assert run(challenge, frames) == ("ok", 0)


def test_a_genuine_head_turn_passes_with_the_center_step_in_the_middle() -> None:
    challenge = ("turn_left", "center", "turn_right")
    assert run(challenge, genuine_sequence(people.astronaut(), challenge)) == ("ok", 1)


def test_genuine_frames_sent_mirrored_fail() -> None:
    genuine = genuine_sequence(people.astronaut(), LEFT_FIRST)
    frames = [np.ascontiguousarray(f[:, ::-1]) for f in genuine]
    assert run(LEFT_FIRST, frames)[0] == "liveness_failed"


@pytest.mark.parametrize("name", ["astronaut", "group1"])
def test_one_frame_sent_for_every_step_is_a_repeated_frame(name: str) -> None:
    frames = repeated_frame_sequence(people.person(name), LEFT_FIRST)
    assert run(LEFT_FIRST, frames) == ("repeated_frame", None)


@pytest.mark.parametrize("challenge", [LEFT_FIRST, RIGHT_FIRST], ids=["left", "right"])
@pytest.mark.parametrize("name", ["astronaut", "group1", "group0"])
def test_a_tilted_flat_photo_fails_liveness(name: str, challenge: tuple[str, ...]) -> None:
    frames = tilted_photo_sequence(people.person(name), challenge)
    assert run(challenge, frames) == ("liveness_failed", None)


@pytest.mark.parametrize("swap_step", [1, 2])
def test_another_person_in_one_step_is_an_identity_change(swap_step: int) -> None:
    frames = swapped_person_sequence(
        people.astronaut(), people.group_face(1), LEFT_FIRST, swap_step=swap_step
    )
    assert run(LEFT_FIRST, frames) == ("identity_changed", None)


def test_the_anti_spoof_threshold_applies_to_real_scores() -> None:
    # The astronaut scores 0.37-0.52: above the default, below a stricter 0.6 threshold.
    frames = genuine_sequence(people.astronaut(), LEFT_FIRST)
    analyses = [face_engine().analyze(f) for f in frames]
    assert check_liveness(LEFT_FIRST, analyses).reason == "ok"
    strict = Thresholds(antispoof_min=0.6)
    assert check_liveness(LEFT_FIRST, analyses, strict).reason == "spoof_suspected"


def test_a_different_live_person_passes_liveness_but_does_not_match() -> None:
    engine = face_engine()
    template = engine.enrollment_embedding([people.astronaut()])
    results = {}
    for name in ("astronaut", "group1"):
        analyses = [engine.analyze(f) for f in genuine_sequence(people.person(name), LEFT_FIRST)]
        live = check_liveness(LEFT_FIRST, analyses)
        assert live.passed and live.match_frame is not None
        probe = analyses[live.match_frame].embedding
        assert probe is not None
        results[name] = cosine_similarity(probe, template)
    assert results["astronaut"] >= DEFAULT.match_min_cosine  # measured 0.97
    assert results["group1"] < DEFAULT.match_min_cosine  # measured 0.05


# ----------------------------------------------------------------- enrollment quality


def blurred(image: RGBImage, radius: float) -> RGBImage:
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius)))


def shrunk(image: RGBImage, factor: float) -> RGBImage:
    picture = Image.fromarray(image)
    size = (round(picture.width * factor), round(picture.height * factor))
    return np.asarray(picture.resize(size, Image.Resampling.LANCZOS))


@pytest.mark.parametrize(
    ("make", "quality"),
    [
        (lambda: np.ascontiguousarray(skimage.data.rocket()), "no_face"),
        (people.group, "multiple_faces"),
        (lambda: shrunk(people.astronaut(), 0.3), "face_too_small"),  # 13 px between the eyes
        (lambda: blurred(people.astronaut(), 2.0), "blurry"),  # sharpness 10 < 30
        (people.turned, "not_frontal"),  # yaw -0.42
    ],
    ids=["no_face", "multiple_faces", "face_too_small", "blurry", "not_frontal"],
)
def test_enrollment_refuses_a_poor_image(make: object, quality: str) -> None:
    bad = make()  # type: ignore[operator]
    with pytest.raises(EnrollmentQualityError) as caught:
        face_engine().enrollment_embedding([people.astronaut(), bad])
    error = caught.value
    assert error.quality == quality
    assert (error.code, error.http_status) == ("enrollment_rejected", 422)
    assert isinstance(error, BadRequestError) and "image 1" in error.message


def test_images_just_inside_the_quality_limits_enroll() -> None:
    small = shrunk(people.astronaut(), 0.6)  # 26 px between the eyes (limit 24)
    soft = blurred(people.astronaut(), 1.0)  # sharpness 69 (limit 30)
    slightly_turned = people.group_face(0)  # yaw -0.16 (limit 0.25)
    template = face_engine().enrollment_embedding([small, soft, slightly_turned])
    assert template.shape == (128,) and abs(float(np.linalg.norm(template)) - 1.0) < 1e-5


def test_the_enrollment_template_is_the_normalised_mean_embedding() -> None:
    engine = face_engine()
    images = [people.astronaut(), genuine_sequence(people.astronaut(), ("center",), seed=5)[0]]
    template = engine.enrollment_embedding(images)
    embeddings = [engine.analyze(image).embedding for image in images]
    mean = np.mean(embeddings, axis=0)
    assert np.allclose(template, mean / np.linalg.norm(mean), atol=1e-6)


def test_enrollment_without_images_is_a_bad_request() -> None:
    with pytest.raises(BadRequestError):
        face_engine().enrollment_embedding([])


# ----------------------------------------------------------------- matching two images


def test_match_images_says_same_person_for_two_captures_of_one_face() -> None:
    second = genuine_sequence(people.astronaut(), ("center",), seed=9)[0]
    result = match_images(face_engine(), people.astronaut(), second, 0.363)
    assert result["same_person"] is True and result["threshold"] == 0.363
    similarity = result["similarity"]
    assert isinstance(similarity, float) and similarity == round(similarity, 4) > 0.9


def test_match_images_says_different_for_two_people() -> None:
    result = match_images(face_engine(), people.astronaut(), people.other_person(), 0.363)
    assert result["same_person"] is False


@pytest.mark.parametrize(
    ("second", "quality"),
    [(lambda: np.ascontiguousarray(skimage.data.rocket()), "no_face"),
     (people.group, "multiple_faces")],
    ids=["no_face", "multiple_faces"],
)  # fmt: skip
def test_match_images_refuses_a_side_without_one_face(second: object, quality: str) -> None:
    with pytest.raises(FaceQualityError) as caught:
        match_images(face_engine(), people.astronaut(), second(), 0.363)  # type: ignore[operator]
    assert caught.value.quality == quality and "second" in caught.value.message
    assert caught.value.http_status == 422
