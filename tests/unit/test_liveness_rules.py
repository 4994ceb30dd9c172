"""The liveness rules on hand-built measurements: each rule passes what it must and refuses the
cheapest attack on it. The same rules on rendered bursts with the real models are in
tests/unit/test_liveness_bursts.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from secureface.sessions.challenge import PALETTE, Challenge
from secureface.verify.analysis import FrameScan
from secureface.verify.answer import CLIENT_HINTS, client_hint
from secureface.verify.depth import check_depth, fit_homography, planar_residual
from secureface.verify.light import check_light, srgb_to_linear
from secureface.verify.liveness import Thresholds, check_burst, check_frames, check_timing
from secureface.verify.motion import Pose, check_motion
from vectors.protocol import CHALLENGE as VECTOR_CHALLENGE

#: The protocol vectors' challenge (python -m vectors), and another with the same moves.
CHALLENGE = VECTOR_CHALLENGE
OTHER = Challenge(
    mode="light",
    moves=CHALLENGE.moves,
    move_ms=CHALLENGE.move_ms,
    light=(("green", 600), ("magenta", 500), ("yellow", 450), ("red", 700), ("blue", 400),
           ("cyan", 550), ("green", 650), ("red", 350), ("magenta", 600), ("blue", 700),
           ("yellow", 500)),
)  # fmt: skip
ALBEDO = np.array([0.45, 0.30, 0.22])
WALL = np.array([0.30, 0.30, 0.30])
#: What a cue moves at the peak of each move (yaw for left/right, rise for up/down).
PEAK = {"left": (0.35, 0.0), "right": (-0.35, 0.0), "up": (0.0, 0.2), "down": (0.0, -0.2)}
#: The eyes' rise at rest: eyes 100 px below the top edge, 50 px apart.
REST_RISE = -2.0


def times(fps: float = 10.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(0, CHALLENGE.capture_ms, 1000 / fps) + rng.normal(
        0, 4, int(CHALLENGE.capture_ms * fps / 1000)
    )
    return np.sort(np.clip(t, 0, CHALLENGE.capture_ms - 1)).astype(int)


def shown(challenge: Challenge | None, t: float) -> np.ndarray:
    for colour, start, end in challenge.light_intervals() if challenge else ():
        if start <= t < end:
            return srgb_to_linear(np.asarray(PALETTE[colour], dtype=np.float64) / 255)
    return np.zeros(3)


def lit(
    ts: np.ndarray,
    light: Challenge | None,
    *,
    share: float = 0.15,
    wall_share: float = 0.15 / 16,
    lag_ms: float = 70,
    seed: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Face and wall mean linear RGB under the screen's light (an exposure drift, 0.4 % noise)."""
    rng = np.random.default_rng(seed)
    face, wall = [], []
    for t in ts:
        colour = shown(light, t - lag_ms)
        exposure = 1 + 0.2 * math.sin(t / 900)
        face.append(
            ALBEDO * (1 + share / (1 - share) * colour) * exposure * rng.normal(1, 0.004, 3)
        )
        wall.append(
            WALL * (1 + wall_share / (1 - wall_share) * colour) * exposure * rng.normal(1, 0.004, 3)
        )
    return np.array(face), np.array(wall)


def performed(ts: np.ndarray, moves: tuple[str, ...] = CHALLENGE.moves) -> list[Pose]:
    """A head doing each move out and back inside its window (a smooth bump)."""
    poses = []
    for t in ts:
        index = min(int(t // CHALLENGE.move_ms), len(moves) - 1)
        phase = (t - index * CHALLENGE.move_ms) / CHALLENGE.move_ms
        bump = math.sin(math.pi * min(max((phase - 0.2) / 0.7, 0.0), 1.0)) ** 2
        d_yaw, d_pitch = PEAK.get(moves[index], (0.0, 0.0))
        poses.append(
            Pose(int(t), 0.02 + d_yaw * bump, REST_RISE + d_pitch * bump, (100, 60, 120, 140))
        )
    return poses


# --- light -------------------------------------------------------------------------------------


@pytest.mark.parametrize("share", [0.12, 0.20, 0.30])
def test_a_face_lit_by_this_sessions_screen_passes(share: float) -> None:
    ts = times()
    result = check_light(CHALLENGE, ts, *lit(ts, CHALLENGE, share=share))
    assert result.passed, result.detail
    assert result.decoded == 1.0 and 0 <= result.lag_ms <= 120


def test_a_screen_giving_under_about_ten_percent_of_the_face_light_is_too_weak() -> None:
    # the stated limit (docs/LIVENESS.md): below it a live person is refused, like a screen replay
    ts = times()
    assert check_light(CHALLENGE, ts, *lit(ts, CHALLENGE, share=0.05)).reason == (
        "light_not_reflected"
    )


def test_a_face_lit_by_another_sessions_light_is_refused() -> None:
    ts = times()
    result = check_light(CHALLENGE, ts, *lit(ts, OTHER))
    assert result.reason == "light_not_reflected", result.detail


def test_a_face_that_does_not_answer_the_light_is_refused() -> None:
    ts = times()
    assert check_light(CHALLENGE, ts, *lit(ts, None)).reason == "light_not_reflected"


def test_a_tint_over_the_whole_frame_is_refused() -> None:
    ts = times()
    result = check_light(CHALLENGE, ts, *lit(ts, CHALLENGE, wall_share=0.15))
    assert result.reason == "uniform_tint", result.detail


def test_light_that_arrives_late_through_a_relay_is_refused() -> None:
    ts = times()
    result = check_light(CHALLENGE, ts, *lit(ts, CHALLENGE, lag_ms=650))
    assert result.reason == "light_not_reflected", result.detail


def test_a_burst_whose_second_half_is_another_recording_is_refused() -> None:
    ts = times()
    face, wall = lit(ts, CHALLENGE)
    other_face, other_wall = lit(ts, OTHER)
    half = len(ts) // 2
    face[half:], wall[half:] = other_face[half:], other_wall[half:]
    assert not check_light(CHALLENGE, ts, face, wall).passed


# --- motion ------------------------------------------------------------------------------------


def test_the_moves_performed_in_order_pass_and_name_their_peaks() -> None:
    ts = times()
    result = check_motion(CHALLENGE, performed(ts))
    assert result.passed, result.detail
    assert len(result.peaks) == 3
    for peak, index in zip(result.peaks, (1, 2, 3), strict=True):
        start, end = CHALLENGE.move_window(index)
        assert start <= ts[peak] < end


@pytest.mark.parametrize(
    "moves",
    [
        ("center", "right", "up", "left"),  # left and right swapped (a mirrored video)
        ("center", "left", "down", "right"),  # the wrong vertical move
        ("center", "left", "center", "right"),  # one move not made
        ("center", "up", "left", "right"),  # out of order
    ],
)
def test_moves_not_made_as_asked_are_refused(moves: tuple[str, ...]) -> None:
    result = check_motion(CHALLENGE, performed(times(), moves))
    assert result.reason == "moves_not_followed", result.detail


def test_a_clip_sweeping_every_direction_fast_in_every_window_is_refused() -> None:
    ts = times()
    poses = []
    for t in ts:
        angle = 2 * math.pi * t / 400
        poses.append(
            Pose(
                int(t),
                0.35 * math.cos(angle),
                REST_RISE + 0.2 * math.sin(angle),
                (100, 60, 120, 140),
            )
        )
    # a frontal centre window, then a circle every 0.4 s
    poses = [p if p.t_ms >= 1500 else Pose(p.t_ms, 0.0, REST_RISE, p.box) for p in poses]
    # every window sees every direction: refused by its zigzag (a slow sweep would pass this
    # rule: it proves nothing about life, the light and the depth do)
    assert check_motion(CHALLENGE, poses).reason == "discontinuity"


def test_a_cut_between_two_clips_is_a_discontinuity() -> None:
    poses = performed(times())
    cut = len(poses) // 2
    jumped = [
        p if i < cut else Pose(p.t_ms, p.yaw, p.rise, (260, 60, 120, 140))
        for i, p in enumerate(poses)
    ]
    assert check_motion(CHALLENGE, jumped).reason == "discontinuity"


def test_frames_shuffled_within_a_move_are_a_discontinuity() -> None:
    poses = performed(times())
    window = [i for i, p in enumerate(poses) if 1500 <= p.t_ms < 3000]
    order = list(np.random.default_rng(3).permutation(window))
    shuffled = list(poses)
    for slot, source in zip(window, order, strict=True):
        shuffled[slot] = Pose(
            poses[slot].t_ms, poses[source].yaw, poses[source].rise, poses[source].box
        )
    assert check_motion(CHALLENGE, shuffled).reason == "discontinuity"


# --- depth -------------------------------------------------------------------------------------


def _face_points(seed: int = 0) -> np.ndarray:
    """468 points on a head-like surface (x, y, depth) in eye distances."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, 468), rng.uniform(-1.3, 1.3, 468)
    z = 0.9 * np.sqrt(np.clip(1 - x**2 - (y / 1.4) ** 2, 0, None)) + 0.3 * np.exp(
        -(x**2 + (y + 0.2) ** 2) / 0.05
    )
    return np.stack([x, y, z], axis=1)


def _project(
    points: np.ndarray, yaw_deg: float, eye: float = 50.0, camera: float = 8.0
) -> np.ndarray:
    a = math.radians(yaw_deg)
    rot = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    p = points @ rot.T
    depth = camera - p[:, 2]
    return np.stack(
        [160 + eye * camera * p[:, 0] / depth, 120 + eye * camera * p[:, 1] / depth], axis=1
    )


def test_the_homography_fit_is_exact_for_a_plane() -> None:
    flat = _face_points() * np.array([1, 1, 0])
    source, target = _project(flat, 0), _project(flat, 35)
    h = fit_homography(source, target)
    mapped = np.c_[source, np.ones(len(source))] @ h.T
    assert np.allclose(mapped[:, :2] / mapped[:, 2:], target, atol=1e-6)
    assert planar_residual(source, target, 50.0) < 1e-6


def test_every_move_must_show_depth() -> None:
    assert check_depth([0.03, 0.025, 0.04], 0.018).passed
    one_flat = check_depth([0.03, 0.007, 0.04], 0.018)
    assert one_flat.reason == "flat" and "0.0070" in one_flat.detail
    assert check_depth([], 0.018).reason == "flat"


def test_depth_is_needed_in_every_move_but_the_allowed_outlier() -> None:
    """A small genuine move departs less from a plane (a live head's up move measured 0.044
    beside 0.079 and 0.129); a plane reaches the threshold in no move (prints: ≤ 0.043)."""
    threshold, outliers = Thresholds().depth_min_residual, Thresholds().depth_outliers
    assert outliers == 1
    assert check_depth([0.079, 0.129, 0.044], threshold, outliers).passed
    assert check_depth([0.079, 0.040, 0.044], threshold, outliers).reason == "flat"
    assert check_depth([0.043, 0.043, 0.043], threshold, outliers).reason == "flat"  # a print
    assert check_depth([0.090], threshold, outliers).reason == "flat"  # two moves must show it


# --- timing and the whole first stage ----------------------------------------------------------


@pytest.mark.parametrize(
    "ts,problem",
    [
        (list(range(0, 6000, 100))[::3], "frames inside"),  # subsampled to ~3 fps
        (list(range(0, 3000, 50)), "gap"),  # stops half-way
        (list(range(2000, 6000, 70)), "gap"),  # starts late
        ([0, 100, 100, *range(200, 6000, 100)], "increasing"),
        ([*range(0, 3000, 100), 2900, *range(3000, 6000, 100)], "increasing"),
    ],
)
def test_bursts_with_implausible_timing_are_refused(ts: list[int], problem: str) -> None:
    assert problem in check_timing(CHALLENGE, ts, Thresholds())


def scans_for(
    ts: np.ndarray, light: Challenge | None = CHALLENGE, **overrides: object
) -> list[FrameScan]:
    from secureface.face.detector import Face

    face_rgb, wall = lit(ts, light)
    out = []
    for pose, rgb, bg in zip(performed(ts), face_rgb, wall, strict=True):
        eyes = -pose.rise * 50.0
        face = Face(
            box=pose.box,
            landmarks=(
                (130, eyes),
                (180, eyes),
                (155, eyes + 30),
                (135, eyes + 60),
                (175, eyes + 60),
            ),
            score=0.9,
        )
        scan = FrameScan(1, face, pose.yaw, 50.0, tuple(rgb), tuple(bg), 120.0)
        out.append(FrameScan(**{**scan.__dict__, **overrides}))
    return out


def test_a_good_burst_passes_stage_one_and_samples_its_key_frames() -> None:
    ts = times()
    plan = check_burst(CHALLENGE, list(ts), scans_for(ts))
    assert plan.passed, plan.detail
    assert plan.baseline in plan.samples and set(plan.peaks) <= set(plan.samples)
    assert len(plan.samples) >= 5


@pytest.mark.parametrize(
    "overrides,reason",
    [
        ({"face_count": 2, "face": None}, "multiple_faces"),
        ({"face_count": 0, "face": None}, "no_face"),
        ({"eye_distance": 12.0}, "too_far"),
    ],
)
def test_stage_one_refuses_bad_faces_with_a_hint_the_client_may_see(
    overrides: dict[str, object], reason: str
) -> None:
    ts = times()
    plan = check_burst(CHALLENGE, list(ts), scans_for(ts, **overrides))
    assert plan.reason == reason and client_hint(plan.reason) == reason


@pytest.mark.parametrize(
    "frames,reason", [((7,), "ok"), ((7, 30), "ok"), ((7, 30, 50), "multiple_faces")]
)
def test_a_second_face_in_a_few_frames_is_a_detector_glitch_left_out_not_a_second_person(
    frames: tuple[int, ...], reason: str
) -> None:
    ts = times()
    scans = scans_for(ts)
    for i in frames:
        scans[i] = FrameScan(**{**scans[i].__dict__, "face_count": 2})
    plan = check_burst(CHALLENGE, list(ts), scans)
    assert plan.reason == reason, plan.detail
    if plan.passed:
        assert not set(frames) & set(plan.samples)  # the doubtful frames are never used


def test_one_sampled_frame_may_miss_the_identity_two_may_not() -> None:
    ts = times()
    plan = check_burst(CHALLENGE, list(ts), scans_for(ts))
    same, other = np.eye(128, dtype=np.float32)[0], np.eye(128, dtype=np.float32)[1]
    others = [i for i in plan.samples if i != plan.baseline]
    residuals, spoof = [0.1, 0.1, 0.1], 0.9

    def embeddings(changed: list[int]) -> dict[int, np.ndarray]:
        return {i: other if i in changed else same for i in plan.samples}

    assert check_frames(plan, embeddings([]), residuals, spoof).passed
    assert check_frames(plan, embeddings(others[:1]), residuals, spoof).passed
    refused = check_frames(plan, embeddings(others[:2]), residuals, spoof)
    assert refused.reason == "identity_changed"


def test_a_dark_face_that_shows_no_light_is_told_too_dark() -> None:
    ts = times()
    plan = check_burst(CHALLENGE, list(ts), scans_for(ts, None, face_luma=20.0))
    assert plan.reason == "too_dark"


def test_which_liveness_signal_refused_is_never_a_client_hint() -> None:
    private = "timing discontinuity light_not_reflected uniform_tint flat identity_changed"
    private += " spoof_suspected replayed no_match deadline"
    for reason in private.split():
        assert client_hint(reason) == ""
    assert set(CLIENT_HINTS) == {
        "no_face",
        "multiple_faces",
        "too_dark",
        "too_far",
        "moves_not_followed",
    }


def test_every_direction_of_the_challenge_is_measured_by_one_cue() -> None:
    """The motion rule knows each move the challenge can ask for (one list of moves)."""
    from secureface.sessions.challenge import DIRECTIONS
    from secureface.verify.motion import CUES, TURNS, progress

    assert set(CUES) == set(DIRECTIONS) and TURNS == ("left", "right")
    assert [progress(d, 0.25, 0.5) for d in DIRECTIONS] == [0.25, -0.25, 0.5, -0.5]
