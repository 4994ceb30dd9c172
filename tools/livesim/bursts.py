"""Bursts as the browser sends them (JPEG frames + capture times): a live person, and attacks.

Genuine (:func:`genuine_burst`): a 3-D head performing the session's moves with human timing,
lit IN TIME by this session's light schedule (:mod:`livesim.camera`), through a webcam. Every
attack below is something that can be made without being a live person in front of this screen
during this session; each must be refused (tests/integration/test_verify.py, bench/liveness.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from livesim.camera import Webcam, colour_at, lit, to_linear
from livesim.head import HeadModel
from livesim.motion import trajectory
from secureface.face import detect_faces, pose_cues
from secureface.sessions.challenge import Challenge

RGB = NDArray[np.uint8]
F32 = NDArray[np.float32]
#: Frames a second the page captures (it aims at 12; the server needs 8).
FPS = 12.0


@dataclass(frozen=True)
class Burst:
    """What the page sends: JPEG frames and their capture times (ms from time zero)."""

    frames: tuple[bytes, ...]
    times_ms: tuple[int, ...]


_heads: dict[int, tuple[RGB, HeadModel]] = {}


def head_of(photo_or_head: RGB | HeadModel) -> HeadModel:
    """A :class:`HeadModel` for a photo (built once per photo object)."""
    if isinstance(photo_or_head, HeadModel):
        return photo_or_head
    known = _heads.get(id(photo_or_head))
    if known is None or known[0] is not photo_or_head:
        known = (photo_or_head, HeadModel.from_photo(photo_or_head))
        _heads[id(photo_or_head)] = known
    return known[1]


def frame_times(challenge: Challenge, rng: np.random.Generator, fps: float = FPS) -> list[int]:
    """Capture times: ``fps`` a second with ±5 ms jitter and an occasional dropped frame."""
    times, t = [], float(rng.uniform(5, 40))
    while t < challenge.capture_ms:
        if rng.random() > 0.02:
            times.append(round(t + float(rng.normal(0, 5))))
        t += 1000.0 / fps
    out: list[int] = []
    for value in times:
        out.append(max(value, out[-1] + 1) if out else max(value, 0))
    return out


@dataclass(frozen=True)
class Scene:
    """How one burst is lit and filmed.

    Attributes:
        light: whose light schedule falls on the face (``None``: none).
        share: the screen's part of the face's light (white screen).
        background: the background's screen light as a fraction of the face's.
        lag_ms: display + camera delay between a colour and the frames that show it.
        whole_frame: light the whole frame like the face (an injected tint).
    """

    light: Challenge | None
    share: float
    background: float
    lag_ms: float
    whole_frame: bool = False


def _film(
    challenge: Challenge,
    scene: Scene,
    rng: np.random.Generator,
    pose_frame: object,
    fps: float = FPS,
) -> Burst:
    """Render every frame time: ``pose_frame(t) -> (rgb, mask, facing)``; light; capture."""
    camera = Webcam(rng, exposure_tau_ms=float(rng.uniform(300, 1000)))
    times = frame_times(challenge, rng, fps)
    frames, previous = [], None
    for t in times:
        rgb, mask, facing = pose_frame(t)  # type: ignore[operator]
        linear = to_linear(rgb)
        if previous is not None:  # motion blur: a 33 ms exposure of a moving head
            linear = 0.8 * linear + 0.2 * previous
        previous = linear
        if scene.whole_frame:
            mask, facing = np.ones_like(mask), np.ones_like(facing)
        colour = colour_at(scene.light, t - scene.lag_ms)
        frames.append(
            camera.capture(lit(linear, mask, facing, colour, scene.share, scene.background), t)
        )
    return Burst(tuple(frames), tuple(times))


def _scene(
    rng: np.random.Generator, light: Challenge | None, share: float | None, lag_ms: float | None
) -> Scene:
    return Scene(
        light=light,
        share=float(rng.uniform(0.08, 0.25)) if share is None else share,
        background=1.0 / float(rng.uniform(9, 25)),
        lag_ms=float(rng.uniform(0, 33)) if lag_ms is None else lag_ms,
    )


def _performer(head: HeadModel, challenge: Challenge, rng: np.random.Generator) -> object:
    path = trajectory(challenge, rng)

    def pose_frame(t: float) -> tuple[RGB, F32, F32]:
        yaw, pitch = path(t)
        return head.render(yaw, pitch)

    return pose_frame


def genuine_burst(
    photo_or_head: RGB | HeadModel,
    challenge: Challenge,
    *,
    seed: int = 0,
    screen_share: float | None = None,
    fps: float = FPS,
    lag_ms: float | None = None,
) -> Burst:
    """A live person performing ``challenge`` in front of the screen showing its light."""
    rng = np.random.default_rng(seed)
    head = head_of(photo_or_head)
    scene = _scene(rng, challenge, screen_share, lag_ms)
    return _film(challenge, scene, rng, _performer(head, challenge, rng), fps)


def animated_photo_burst(photo: RGB | HeadModel, challenge: Challenge, seed: int = 0) -> Burst:
    """A photo animated in 3-D into the right moves, made in advance: lit only by its room."""
    rng = np.random.default_rng(seed)
    scene = _scene(rng, None, None, None)
    return _film(challenge, scene, rng, _performer(head_of(photo), challenge, rng))


def replayed_burst(genuine: Burst, challenge: Challenge) -> Burst:
    """A genuine burst recorded in another session, sent again as it was."""
    del challenge
    return genuine


def delayed_burst(
    photo: RGB | HeadModel, challenge: Challenge, seed: int = 0, delay_ms: float = 600.0
) -> Burst:
    """A live person relayed through a link that adds ``delay_ms``: the light arrives late."""
    return genuine_burst(photo, challenge, seed=seed, lag_ms=delay_ms)


def tint_burst(photo: RGB | HeadModel, challenge: Challenge, seed: int = 0) -> Burst:
    """An injected stream of an animated photo with the schedule's colour over the whole frame."""
    rng = np.random.default_rng(seed)
    base = _scene(rng, challenge, None, None)
    scene = Scene(base.light, base.share, 1.0, base.lag_ms, whole_frame=True)
    return _film(challenge, scene, rng, _performer(head_of(photo), challenge, rng))


def screen_replay_burst(photo: RGB | HeadModel, challenge: Challenge, seed: int = 0) -> Burst:
    """A phone or monitor held to the camera, playing an animation made in advance. The screen
    emits its own light; this session's colours reflect on its glass only weakly and evenly
    (a glossy display reflects ~4 % specularly, a fraction of a percent diffusely)."""
    rng = np.random.default_rng(seed)
    scene = Scene(challenge, 0.005, 1.0, float(rng.uniform(0, 33)), whole_frame=True)
    return _film(challenge, scene, rng, _performer(head_of(photo), challenge, rng))


def swapped_person_burst(
    photo: RGB | HeadModel, other: RGB | HeadModel, challenge: Challenge, seed: int = 0
) -> Burst:
    """Lit correctly, but another person takes over half-way (the victim only at the start)."""
    rng = np.random.default_rng(seed)
    first = _performer(head_of(photo), challenge, rng)
    second = _performer(head_of(other), challenge, rng)
    half = challenge.capture_ms / 2

    def pose_frame(t: float) -> tuple[RGB, F32, F32]:
        return (first if t < half else second)(t)  # type: ignore[operator, no-any-return]

    return _film(challenge, _scene(rng, challenge, None, None), rng, pose_frame)


def subsampled_burst(burst: Burst, keep_every: int = 3) -> Burst:
    """Every ``keep_every``-th frame only."""
    return Burst(burst.frames[::keep_every], burst.times_ms[::keep_every])


def reordered_burst(burst: Burst, seed: int = 0) -> Burst:
    """The frames shuffled in blocks of three, the times kept in order."""
    rng = np.random.default_rng(seed)
    blocks = [list(range(i, min(i + 3, len(burst.frames)))) for i in range(0, len(burst.frames), 3)]
    order = [i for b in (blocks[j] for j in rng.permutation(len(blocks))) for i in b]
    return Burst(tuple(burst.frames[i] for i in order), burst.times_ms)


def spliced_burst(first: Burst, second: Burst) -> Burst:
    """The first half of one burst and the second half of another (by capture time)."""
    end = first.times_ms[-1] / 2
    head = [(f, t) for f, t in zip(first.frames, first.times_ms, strict=True) if t < end]
    tail = [(f, t) for f, t in zip(second.frames, second.times_ms, strict=True) if t >= end]
    frames, times = zip(*(head + tail), strict=True)
    return Burst(tuple(frames), tuple(times))


# ------------------------------------------------------------------------------ flat print


def _plane_warp(
    head: HeadModel, yaw: float, pitch: float, distance: float, lift: float = 0.0
) -> tuple[RGB, F32, F32]:
    """The framed photo as a flat print (its face cut out), rotated as a plane in front of a
    pinhole camera ``distance`` px away (focal length = distance), and raised by ``lift`` px."""
    height, width = head.weight.shape
    cx, cy = head.centre
    a, b = math.radians(yaw), math.radians(pitch)
    rot = np.array(
        [[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]]
    ) @ np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    r1, r2 = rot[:, 0], rot[:, 1]
    d = distance
    h = np.array(
        [
            [d * r1[0] - cx * r1[2] * -1 * 0 + cx * -r1[2], d * r2[0] + cx * -r2[2], cx * d],
            [d * r1[1] + cy * -r1[2], d * r2[1] + cy * -r2[2], cy * d],
            [-r1[2], -r2[2], d],
        ]
    )
    # h maps (x - cx, y - cy, 1) of the print to the image; Pillow wants image -> print.
    shift = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1.0]])
    raise_ = np.array([[1, 0, 0], [0, 1, -lift], [0, 0, 1.0]])
    inverse = np.linalg.inv(raise_ @ h @ shift)
    inverse /= inverse[2, 2]
    coefficients = tuple(float(v) for v in inverse.flatten()[:8])
    room = Image.fromarray(head.image)
    face = Image.fromarray(head.image).transform(
        (width, height), Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR
    )
    # the print is cut out generously around the head (its whole face is paper)
    cut = Image.fromarray((np.clip(head.weight * 3.0, 0, 1) * 255).astype(np.uint8)).transform(
        (width, height), Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR
    )
    mask = np.asarray(cut, dtype=np.float32) / 255.0
    rgb = (
        np.asarray(room, dtype=np.float32) * (1 - mask[..., None])
        + np.asarray(face, dtype=np.float32) * mask[..., None]
    )
    facing = np.full((height, width), float(max(rot[2, 2], 0.0)), dtype=np.float32)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8), mask, facing


def flat_print_burst(
    photo: RGB | HeadModel, challenge: Challenge, seed: int = 0, adaptive: bool = True
) -> Burst:
    """A printed photo, the face cut out, held in front of the screen and moved for each move.

    The print reflects this session's light like skin would (paper is diffuse), so the light
    rule passes; it is a plane, so the geometry rule must refuse it. For ``up``/``down`` the
    print is raised and lowered (the eyes rise as for a real head); for ``left``/``right`` it
    is tilted, and ``adaptive`` picks, per direction, the tilt gain and camera distance that
    move YuNet's yaw cue furthest that way, as an attacker tuning a print against the server
    would.
    """
    rng = np.random.default_rng(seed)
    head = head_of(photo)
    path = trajectory(challenge, rng)
    tilt = {1.0: (1.5, 6.0), -1.0: (1.5, 6.0)}
    if adaptive:
        tilt = {sign: _best_tilt(head, sign) for sign in (1.0, -1.0)}

    def pose_frame(t: float) -> tuple[RGB, F32, F32]:
        yaw, pitch = path(t)
        gain, distance = tilt[1.0 if yaw >= 0 else -1.0]
        lift = pitch / 20.0 * 0.3 * head.eye_distance
        return _plane_warp(head, yaw * gain, 0.0, distance * head.eye_distance, lift)

    return _film(challenge, _scene(rng, challenge, None, None), rng, pose_frame)


def _best_tilt(head: HeadModel, sign: float) -> tuple[float, float]:
    """The (gain, distance) whose tilt at 25° x gain moves the yaw cue furthest toward ``sign``."""
    from livesim.head import detector

    def yaw_of(rgb: RGB) -> float | None:
        faces = detect_faces(detector(), rgb, input_size=320)  # type: ignore[arg-type]
        return pose_cues(faces[0].landmarks).yaw if len(faces) == 1 else None

    rest = yaw_of(head.image) or 0.0
    best, chosen = -1.0, (1.5, 6.0)
    for gain in (1.0, 1.5, 2.0, 2.4):
        for distance in (3.0, 6.0, 12.0):
            rgb, _, _ = _plane_warp(head, sign * 25.0 * gain, 0.0, distance * head.eye_distance)
            moved = yaw_of(rgb)
            if moved is not None and sign * (moved - rest) > best:
                best, chosen = sign * (moved - rest), (gain, distance)
    return chosen
