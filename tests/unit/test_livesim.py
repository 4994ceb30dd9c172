"""livesim, the simulated webcam (tools/livesim), does what its documentation claims.

- Renders move YuNet's pose cues the right way: the yaw cue grows for ``left`` and shrinks for
  ``right``; for ``up`` the eyes rise and the pitch cue shrinks.
- A genuine burst's face follows this session's light schedule; the animated photo's does not;
  a flat print reflects it too, and a tint lights the room as much as the face.
- Bursts are deterministic for a seed, their times increase and cover the capture, and their
  frames are JPEGs the verify request accepts in size.
- The browser harness's clips have the promised shape and index.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from livesim import bursts, clips, measure, people
from livesim.bursts import Burst
from livesim.camera import from_jpeg
from livesim.challenges import seeded_challenge
from livesim.head import HeadModel, detector
from livesim.light import colour_at
from secureface.face import detect_faces, pose_cues
from secureface.sessions.challenge import Challenge

CHALLENGE = seeded_challenge(3, moves=("left", "up", "right"))


@pytest.fixture(scope="module")
def head() -> HeadModel:
    return bursts.head_of(people.astronaut())


@pytest.fixture(scope="module")
def genuine(head: HeadModel) -> Burst:
    return bursts.genuine_burst(head, CHALLENGE, seed=1)


@pytest.fixture(scope="module")
def animated(head: HeadModel) -> Burst:
    return bursts.animated_photo_burst(head, CHALLENGE, seed=2)


def cues(head: HeadModel, yaw: float, pitch: float) -> tuple[float, float, float]:
    """YuNet's (yaw cue, pitch cue, eye height in eye distances upward) of a render."""
    rgb, _, _ = head.render(yaw, pitch)
    faces = detect_faces(detector(), np.ascontiguousarray(rgb), input_size=320)
    assert len(faces) == 1
    marks = np.asarray(faces[0].landmarks)
    cue = pose_cues(faces[0].landmarks)
    d = float(np.hypot(*(marks[1] - marks[0])))
    return cue.yaw, cue.pitch, -float(marks[:2, 1].mean()) / d


def test_render_frames_the_face_like_a_webcam(head: HeadModel) -> None:
    rgb, mask, facing = head.render(0.0, 0.0)
    assert rgb.shape == (240, 320, 3) and rgb.dtype == np.uint8
    assert mask.shape == facing.shape == (240, 320) and mask.dtype == np.float32
    assert float(mask.min()) >= 0.0 and float(mask.max()) <= 1.0
    assert float(facing.min()) >= 0.0 and float(facing.max()) <= 1.0
    faces = detect_faces(detector(), np.ascontiguousarray(rgb), input_size=320)
    assert len(faces) == 1
    (x1, y1), (x2, y2) = faces[0].landmarks[:2]
    assert 45 <= np.hypot(x2 - x1, y2 - y1) <= 60
    assert abs((x1 + x2) / 2 - 160) < 20


def test_yaw_moves_the_yaw_cue_toward_the_persons_own_side(head: HeadModel) -> None:
    centre, _, _ = cues(head, 0.0, 0.0)
    left, _, _ = cues(head, 25.0, 0.0)  # the person's own left: the nose moves image-right
    right, _, _ = cues(head, -25.0, 0.0)
    assert left - centre > 0.12
    assert centre - right > 0.12


def test_pitch_up_lifts_the_eyes_and_shrinks_the_pitch_cue(head: HeadModel) -> None:
    _, centre, centre_rise = cues(head, 0.0, 0.0)
    _, up, up_rise = cues(head, 0.0, 25.0)
    _, down, down_rise = cues(head, 0.0, -25.0)
    assert up < centre < down
    assert down - up > 0.05
    assert up_rise - centre_rise > 0.2 and centre_rise - down_rise > 0.2


def test_ground_truth_landmarks_follow_the_pose(head: HeadModel) -> None:
    frontal = head.landmarks_at(0.0, 0.0)
    turned = head.landmarks_at(30.0, 0.0)
    lifted = head.landmarks_at(0.0, 20.0)
    d = float(np.hypot(*(frontal[1] - frontal[0])))
    # parallax: the nose tip moves more than the eyes
    assert turned[2, 0] - frontal[2, 0] > (turned[:2, 0] - frontal[:2, 0]).mean() + 0.2 * d
    assert lifted[2, 1] - frontal[2, 1] < (lifted[:2, 1] - frontal[:2, 1]).mean() - 0.2 * d


def _redness(burst: Burst, challenge: Challenge) -> float:
    """Mean face log(R/G) in red/magenta intervals minus that in green/cyan intervals."""
    face = measure.mean_face_rgb(burst)
    log_rg = np.log(face[:, 0] / face[:, 1])
    colours = np.array([colour_at(challenge, t - 60.0) for t in burst.times_ms])
    red = colours[:, 0] > colours[:, 1] + 0.5
    cyan = colours[:, 1] > colours[:, 0] + 0.5
    assert red.sum() >= 5 and cyan.sum() >= 5
    return float(log_rg[red].mean() - log_rg[cyan].mean())


def test_genuine_face_follows_the_schedule_and_the_animated_photo_does_not(
    genuine: Burst, animated: Burst
) -> None:
    live = _redness(genuine, CHALLENGE)
    made_before = _redness(animated, CHALLENGE)
    assert live > 0.05
    assert abs(made_before) < live / 4
    live_gain = measure.gains(genuine, CHALLENGE).face
    assert live_gain > 0.3
    assert abs(measure.gains(animated, CHALLENGE).face) < live_gain / 4


def test_the_room_gets_little_light_unless_the_whole_frame_is_tinted(
    head: HeadModel, genuine: Burst
) -> None:
    live = measure.gains(genuine, CHALLENGE)
    assert live.corners < 0.3 * live.face
    tint = measure.gains(bursts.tint_burst(head, CHALLENGE, seed=5, fps=5.0), CHALLENGE)
    assert tint.corners > 0.7 * tint.face > 0.2


def test_a_flat_print_reflects_the_light(head: HeadModel) -> None:
    paper = bursts.flat_print_burst(head, CHALLENGE, seed=3, adaptive=False, fps=5.0)
    assert measure.gains(paper, CHALLENGE).face > 0.3


def test_bursts_are_deterministic_for_a_seed(head: HeadModel) -> None:
    first = bursts.genuine_burst(head, CHALLENGE, seed=4, fps=5.0)
    assert bursts.genuine_burst(head, CHALLENGE, seed=4, fps=5.0) == first
    other = bursts.genuine_burst(head, CHALLENGE, seed=5, fps=5.0)
    assert set(other.frames).isdisjoint(first.frames)


def test_times_increase_and_cover_the_capture(genuine: Burst, animated: Burst) -> None:
    for burst in (genuine, animated):
        times = np.asarray(burst.times_ms)
        assert len(times) == len(burst.frames)
        assert np.all(np.diff(times) > 0)
        assert times[0] < 100 and times[-1] > CHALLENGE.capture_ms - 200
        assert times[-1] < CHALLENGE.capture_ms
        assert 0.85 * 60 <= len(times) <= 60
        assert np.median(np.diff(times)) == pytest.approx(100, abs=6)


def test_frames_are_small_jpegs(genuine: Burst) -> None:
    assert all(frame[:3] == b"\xff\xd8\xff" for frame in genuine.frames)
    assert max(len(frame) for frame in genuine.frames) <= 64 * 1024
    assert sum(len(frame) for frame in genuine.frames) <= 1024 * 1024
    assert from_jpeg(genuine.frames[0]).shape == (240, 320, 3)


def test_burst_transformations(genuine: Burst) -> None:
    assert bursts.replayed_burst(genuine, seeded_challenge(9)) == genuine
    sub = bursts.subsampled_burst(genuine, keep_every=3)
    assert sub.frames == genuine.frames[::3] and sub.times_ms == genuine.times_ms[::3]
    shuffled = bursts.reordered_burst(genuine)
    assert shuffled.times_ms == genuine.times_ms
    assert sorted(shuffled.frames) == sorted(genuine.frames)
    assert shuffled.frames != genuine.frames
    spliced = bursts.spliced_burst(genuine, sub)
    assert list(spliced.times_ms) == sorted(spliced.times_ms)
    assert spliced.frames[0] == genuine.frames[0] and spliced.frames[-1] == sub.frames[-1]


def test_clips_for_the_browser_harness(head: HeadModel, tmp_path: Path) -> None:
    sequences = clips.pose_sequences(head, fps=5)
    assert set(sequences) == {"center", "left", "right", "up", "down"}
    for key, frames in sequences.items():
        assert len(frames) >= (4 if key == "center" else 6)
        for rgb, mask in frames:
            assert rgb.shape == (240, 320, 3) and mask.shape == (240, 320)
            assert rgb.dtype == mask.dtype == np.uint8
    mask = sequences["center"][0][1]
    assert mask[120, 160] > 150 and mask[5, 5] < 40  # the face, the room
    some = {key: sequences[key] for key in ("center", "left")}
    manifest = clips.write_pngs(some, tmp_path, fps=5)
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
    first = manifest["sequences"]["left"][0]
    assert (tmp_path / first["image"]).exists() and (tmp_path / first["mask"]).exists()
    peak = max(entry["yaw_deg"] for entry in manifest["sequences"]["left"])
    assert peak > 20
