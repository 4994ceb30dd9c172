"""Bursts as the page sends them (JPEG frames + capture times): a live person, and attacks.

Genuine (:func:`genuine_burst`): a 3-D head performing the session's moves with human timing
(:mod:`livesim.motion`), lit IN TIME by this session's light schedule (:mod:`livesim.light`),
through a webcam (:mod:`livesim.camera`). The head is rendered from one photo, exactly as an
attacker could: the only thing that makes the burst genuine is that its face reflects this
session's colours, when they are shown, with a physically plausible strength.

Attacks: everything that can be made without being a live person in front of this screen during
this session.

- :func:`animated_photo_burst`: the same 3-D animation, performing the moves correctly, made in
  advance: lit only by its room.
- :func:`replayed_burst`: a genuine burst of another session (another schedule), sent again.
- :func:`flat_print_burst`: a printed photo, cut out around the head, held in front of the
  screen: it DOES reflect this session's light (paper is diffuse), evenly (a flat surface), and
  it is tilted as a plane to mimic each move (optionally tuned against YuNet).
- :func:`screen_replay_burst`: a phone showing the animation: emissive; its glass reflects this
  session's screen weakly (4 % specular where it mirrors the screen, under 1 % diffuse).
- :func:`tint_burst`: an injected stream of the animation with the schedule's colour added over
  the whole frame in time (face and background alike).
- :func:`reordered_burst`, :func:`spliced_burst`, :func:`subsampled_burst`,
  :func:`delayed_burst` (a relay adding delay: the light arrives late),
  :func:`swapped_person_burst` (genuinely lit, another person mid-burst).

Everything is deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage

from livesim.camera import Webcam, encode_srgb, frame_times, motion_blur
from livesim.head import FRAME, HeadModel, detector
from livesim.light import (
    BACKGROUND_FALLOFF,
    BODY_LIGHT,
    Lighting,
    lit,
    reception,
    screen_colour,
    to_linear,
)
from livesim.motion import AXES, MovePlan, angular_speed, head_translation, plan_moves, sway
from livesim.motion import trajectory as _trajectory
from secureface.face import detect_faces, pose_cues
from secureface.sessions.challenge import Challenge

RGB = NDArray[np.uint8]
F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
#: Frames a second the page captures.
FPS = 10.0
#: Image speed of the face per degree a second of head rotation, in eye distances (the face's
#: front is about 1.2 d from the rotation axes: :mod:`livesim.head`).
FACE_RADIUS = 1.2


@dataclass(frozen=True)
class Burst:
    """What the page sends: JPEG frames and their capture times (ms from the first colour)."""

    frames: tuple[bytes, ...]
    times_ms: tuple[int, ...]


@dataclass(frozen=True)
class Shot:
    """The scene at one instant, before the camera: linear light, where it moves, how fast."""

    linear: F32
    moving: F32
    velocity: tuple[float, float]


_HEADS: OrderedDict[bytes, HeadModel] = OrderedDict()


def head_of(photo_or_head: RGB | HeadModel) -> HeadModel:
    """The :class:`HeadModel` of a photo (built once per photo content, last 8 kept)."""
    if isinstance(photo_or_head, HeadModel):
        return photo_or_head
    photo = np.ascontiguousarray(photo_or_head, dtype=np.uint8)
    key = hashlib.blake2b(photo.tobytes(), digest_size=16, person=str(photo.shape).encode()[:16])
    digest = key.digest()
    if digest in _HEADS:
        _HEADS.move_to_end(digest)
        return _HEADS[digest]
    head = HeadModel.from_photo(photo)
    _HEADS[digest] = head
    if len(_HEADS) > 8:
        _HEADS.popitem(last=False)
    return head


def _film(times: Sequence[int], scene: Callable[[float], Shot], camera: Webcam) -> Burst:
    frames = []
    for t in times:
        shot = scene(float(t))
        linear = motion_blur(shot.linear, shot.moving, shot.velocity, camera.exposure_ms)
        frames.append(camera.capture(linear, float(t)))
    return Burst(tuple(frames), tuple(int(t) for t in times))


def _lighting(
    rng: np.random.Generator, share: float, ambient: tuple[float, float, float]
) -> Lighting:
    return Lighting(
        share=share,
        background=float(rng.uniform(*BACKGROUND_FALLOFF)),
        body=float(rng.uniform(*BODY_LIGHT)),
        ambient=ambient,
    )


@dataclass
class _Performer:
    """A head (or two: ``swap_ms``) performing a challenge: pose, render, velocity."""

    heads: tuple[HeadModel, ...]
    path: Callable[[float], tuple[float, float]]
    place: Callable[[float], tuple[float, float, float]]
    swap_ms: float = math.inf
    size: tuple[int, int] = FRAME

    @classmethod
    def make(
        cls,
        heads: tuple[HeadModel, ...],
        challenge: Challenge,
        rng: np.random.Generator,
        swap_ms: float = math.inf,
    ) -> _Performer:
        return cls(heads, _trajectory(challenge, rng), head_translation(rng), swap_ms)

    def render(self, t: float) -> tuple[HeadModel, RGB, F32, F32, tuple[float, float]]:
        head = self.heads[0] if t < self.swap_ms else self.heads[-1]
        yaw, pitch = self.path(t)
        dx, dy, scale = self.place(t)
        rgb, mask, facing = head.render(yaw, pitch, size=self.size, shift=(dx, dy), scale=scale)
        yaw_speed, pitch_speed = angular_speed(self.path, t)
        px_per_degree = FACE_RADIUS * head.framed(self.size).eye_distance * math.pi / 180
        velocity = (yaw_speed * px_per_degree, -pitch_speed * px_per_degree)
        return head, rgb, mask, facing, velocity


def _performer_scene(
    performer: _Performer,
    lighting: Lighting,
    light: Challenge | None,
    lag_ms: float,
    drift: Callable[[float], float],
    *,
    whole_frame: bool = False,
    exposure_ms: float = 33.0,
) -> Callable[[float], Shot]:
    """A performer lit by ``light``'s schedule (None: by the room only). ``whole_frame``: the
    colour falls on every pixel alike (an injected tint, not light)."""

    def scene(t: float) -> Shot:
        head, rgb, mask, facing, velocity = performer.render(t)
        colour = screen_colour(light, t, lag_ms=lag_ms, exposure_ms=exposure_ms)
        if whole_frame:
            received = np.ones(mask.shape, dtype=np.float32)
        else:
            received = reception(mask, facing, head.body_map(performer.size), lighting)
        return Shot(lit(to_linear(rgb), received, colour, lighting, 1.0 + drift(t)), mask, velocity)

    return scene


def _setup(
    seed: int, challenge: Challenge, fps: float
) -> tuple[np.random.Generator, list[int], Webcam, Callable[[float], float]]:
    """Randomness, frame times, a webcam and the room light's slow drift (±0-2 %, an
    assumption) for one burst, always drawn in this order."""
    rng = np.random.default_rng(seed)
    times = frame_times(challenge.capture_ms, fps, rng)
    camera = Webcam.random(rng)
    drift = sway(rng, float(rng.uniform(0.0, 0.02)), 0.05, 0.2)
    return rng, times, camera, drift


def genuine_burst(
    photo_or_head: RGB | HeadModel,
    challenge: Challenge,
    *,
    seed: int = 0,
    screen_share: float = 0.15,
    fps: float = FPS,
    ambient: tuple[float, float, float] = (1.0, 1.0, 1.0),
    lag_ms: float | None = None,
) -> Burst:
    """A live person performing ``challenge`` in front of the screen showing its light.

    Args:
        photo_or_head: the person.
        challenge: this session's challenge.
        seed: randomness (timing, camera, lighting geometry, noise).
        screen_share: the screen's part of the face's light for a white screen (0.05-0.30
            indoors: :mod:`livesim.light`).
        fps: frames the page grabs a second.
        ambient: the room light's colour relative to the photo's (linear RGB).
        lag_ms: display + camera delay between a colour and the frames showing it (default:
            0-1 frame, drawn).
    """
    return _live(photo_or_head, challenge, seed, screen_share, fps, ambient, lag_ms, 0.0)


def _live(
    photo_or_head: RGB | HeadModel,
    challenge: Challenge,
    seed: int,
    screen_share: float,
    fps: float,
    ambient: tuple[float, float, float],
    lag_ms: float | None,
    delay_ms: float,
) -> Burst:
    rng, times, camera, drift = _setup(seed, challenge, fps)
    drawn = float(rng.uniform(0.0, 1000.0 / fps))  # always drawn: the rest stays the same
    lag = (drawn if lag_ms is None else float(lag_ms)) + delay_ms
    lighting = _lighting(rng, screen_share, ambient)
    performer = _Performer.make((head_of(photo_or_head),), challenge, rng)
    scene = _performer_scene(performer, lighting, challenge, lag, drift)
    return _film(times, scene, camera)


def animated_photo_burst(
    photo: RGB | HeadModel, challenge: Challenge, seed: int = 0, *, fps: float = FPS
) -> Burst:
    """The 3-D animation of a photo performing the moves, made in advance: lit by its room only
    (camera effects included, as a careful attacker would add them)."""
    rng, times, camera, drift = _setup(seed, challenge, fps)
    lighting = _lighting(rng, 0.15, (1.0, 1.0, 1.0))
    performer = _Performer.make((head_of(photo),), challenge, rng)
    return _film(times, _performer_scene(performer, lighting, None, 0.0, drift), camera)


def replayed_burst(genuine: Burst, challenge: Challenge) -> Burst:
    """A genuine burst recorded in another session, sent again unchanged (times kept)."""
    del challenge  # the replay ignores this session's challenge: that is the attack
    return Burst(genuine.frames, genuine.times_ms)


def delayed_burst(
    photo: RGB | HeadModel,
    challenge: Challenge,
    seed: int = 0,
    delay_ms: float = 600.0,
    *,
    fps: float = FPS,
) -> Burst:
    """A live person relayed through a link that adds ``delay_ms``: each frame shows the light
    of ``delay_ms`` (plus the usual lag) before its stamped time. Otherwise the same burst as
    :func:`genuine_burst` with this seed."""
    return _live(photo, challenge, seed, 0.15, fps, (1.0, 1.0, 1.0), None, delay_ms)


def tint_burst(
    photo: RGB | HeadModel,
    challenge: Challenge,
    seed: int = 0,
    *,
    strength: float = 0.15,
    fps: float = FPS,
) -> Burst:
    """An injected stream of the animated photo with the schedule's colour laid over the whole
    frame in time (``strength``: as a screen share would light a face, everywhere)."""
    rng, times, camera, drift = _setup(seed, challenge, fps)
    lag = float(rng.uniform(0.0, 1000.0 / fps))
    lighting = _lighting(rng, strength, (1.0, 1.0, 1.0))
    performer = _Performer.make((head_of(photo),), challenge, rng)
    scene = _performer_scene(performer, lighting, challenge, lag, drift, whole_frame=True)
    return _film(times, scene, camera)


def swapped_person_burst(
    photo: RGB | HeadModel,
    other_photo: RGB | HeadModel,
    challenge: Challenge,
    seed: int = 0,
    *,
    fps: float = FPS,
) -> Burst:
    """Genuinely lit and moving, but ``other_photo``'s person takes over half-way through the
    capture (at the start of the third move window with the default timing)."""
    rng, times, camera, drift = _setup(seed, challenge, fps)
    lag = float(rng.uniform(0.0, 1000.0 / fps))
    lighting = _lighting(rng, 0.15, (1.0, 1.0, 1.0))
    heads = (head_of(photo), head_of(other_photo))
    performer = _Performer.make(heads, challenge, rng, swap_ms=challenge.capture_ms / 2)
    return _film(times, _performer_scene(performer, lighting, challenge, lag, drift), camera)


def subsampled_burst(burst: Burst, keep_every: int = 3) -> Burst:
    """Every ``keep_every``-th frame only (times kept)."""
    return Burst(burst.frames[::keep_every], burst.times_ms[::keep_every])


def reordered_burst(burst: Burst, seed: int = 0, block: int = 5) -> Burst:
    """The frames shuffled in blocks of ``block`` (about half a second), the times kept in
    order: the same pictures, out of sequence."""
    rng = np.random.default_rng(seed)
    n = len(burst.frames)
    blocks = [list(range(i, min(i + block, n))) for i in range(0, n, block)]
    order = rng.permutation(len(blocks))
    if len(blocks) > 1 and np.all(order == np.arange(len(blocks))):
        order = order[::-1]
    frames = [burst.frames[i] for j in order for i in blocks[j]]
    return Burst(tuple(frames), burst.times_ms)


def spliced_burst(first: Burst, second: Burst) -> Burst:
    """The first half (by capture time) of one burst and the second half of another."""
    end = max(first.times_ms[-1], second.times_ms[-1]) / 2
    head = [(f, t) for f, t in zip(first.frames, first.times_ms, strict=True) if t < end]
    tail = [(f, t) for f, t in zip(second.frames, second.times_ms, strict=True) if t >= end]
    frames, times = zip(*(head + tail), strict=True)
    return Burst(tuple(frames), tuple(times))


# --------------------------------------------------------------------------------- the room


@lru_cache(maxsize=8)
def room(size: tuple[int, int] = FRAME, seed: int = 0) -> RGB:
    """A plain room behind an attacker's print or phone: a wall with a soft light gradient, a
    low-frequency texture and a darker piece of furniture (procedural, deterministic)."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(140, 200, size=3).astype(np.float32) * np.array([1.0, 0.97, 0.9], np.float32)
    gradient = 1.0 + 0.15 * (x / width - 0.5) * float(rng.choice([-1, 1])) - 0.1 * (y / height)
    texture = ndimage.gaussian_filter(rng.standard_normal((height, width)).astype(np.float32), 12)
    texture *= 0.06 / (np.abs(texture).max() + 1e-6)
    wall = base[None, None, :] * (gradient + texture)[..., None]
    left = (
        int(rng.uniform(0, 0.3) * width) if rng.random() < 0.5 else int(rng.uniform(0.7, 1) * width)
    )
    top = int(rng.uniform(0.5, 0.8) * height)
    shelf = (np.abs(x - left) < 0.15 * width) & (y > top)
    wall[shelf] *= 0.55
    result: RGB = np.clip(wall + 0.5, 0, 255).astype(np.uint8)
    result.flags.writeable = False
    return result


# ----------------------------------------------------------------------------- flat print


def _plane_homography(
    size: tuple[int, int],
    centre: tuple[float, float],
    depth: float,
    camera: float,
    axis_deg: float,
    angle_deg: float,
    shift: tuple[float, float],
) -> tuple[float, ...]:
    """Pillow PERSPECTIVE coefficients (output → print pixel) of a flat print, lying at
    ``depth`` in front of the head's plane, turned by ``angle_deg`` about an in-plane axis
    through ``centre`` (``axis_deg`` 0: vertical, as a yaw; 90: horizontal, as a pitch; the sign
    as :func:`livesim.head.rotation`'s), then moved by ``shift`` px, seen by a pinhole camera."""
    width, height = size
    cx, cy = width / 2, height / 2
    # Rodrigues about the in-plane axis (sin phi, cos phi, 0): phi = 0 is rotation(angle, 0),
    # phi = 90 is rotation(0, angle)
    phi, a = math.radians(axis_deg), math.radians(angle_deg)
    u = np.array([math.sin(phi), math.cos(phi), 0.0])
    k = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
    turn = np.eye(3) + math.sin(a) * k + (1 - math.cos(a)) * (k @ k)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    shrink = (camera - depth) / camera
    c3 = np.array([(centre[0] - cx) * shrink, (centre[1] - cy) * shrink, depth])
    moved = []
    for px, py in corners:
        p = np.array([(px - cx) * shrink, (py - cy) * shrink, depth]) - c3
        q = turn @ p + c3
        k_ = camera / (camera - q[2])
        moved.append((cx + q[0] * k_ + shift[0], cy + q[1] * k_ + shift[1]))
    # solve output (moved) -> input (corners): x_in = (a x + b y + c) / (g x + h y + 1), ...
    rows, rhs = [], []
    for (xo, yo), (xi, yi) in zip(moved, corners, strict=True):
        rows.append([xo, yo, 1, 0, 0, 0, -xi * xo, -xi * yo])
        rows.append([0, 0, 0, xo, yo, 1, -yi * xo, -yi * yo])
        rhs.extend([xi, yi])
    solution = np.linalg.solve(np.asarray(rows), np.asarray(rhs))
    return tuple(float(v) for v in solution)


@dataclass(frozen=True)
class _Tilt:
    axis_deg: float
    angle_deg: float


def _warp(
    image: Image.Image, size: tuple[int, int], coefficients: tuple[float, ...]
) -> Image.Image:
    return image.transform(
        size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR
    )


class _Print:
    """A head's photo printed and cut out along the head's outline, in front of a room."""

    def __init__(self, head: HeadModel, size: tuple[int, int] = FRAME) -> None:
        framed = head.framed(size)
        self.head, self.size = head, size
        self.picture = Image.fromarray(np.ascontiguousarray(framed.crop(framed.image)))
        cut = np.ascontiguousarray(framed.crop(framed.mask))
        self.cut = Image.fromarray(np.clip(cut * 255 + 0.5, 0, 255).astype(np.uint8))
        eyes = np.asarray(framed.crop(framed.depth), np.float64)  # the print lies at the eyes
        marks = framed.landmarks - framed.pad
        self.centre = (float(marks[:, 0].mean()), float(marks[:, 1].mean()))
        e = marks[:2].round().astype(np.intp)
        self.depth = float(np.mean(eyes[e[:, 1], e[:, 0]]))
        self.camera = framed.camera
        self.eye_distance = framed.eye_distance
        self.room = to_linear(room(size))

    def view(self, tilt: _Tilt, shift: tuple[float, float]) -> tuple[F32, F32, float]:
        """The print's linear image, its coverage (0..1) and its cosine toward the screen."""
        coefficients = _plane_homography(
            self.size, self.centre, self.depth, self.camera, tilt.axis_deg, tilt.angle_deg, shift
        )
        picture = np.asarray(_warp(self.picture, self.size, coefficients), dtype=np.uint8)
        cover = (np.asarray(_warp(self.cut, self.size, coefficients), np.float32) / 255).astype(
            np.float32
        )
        return to_linear(picture), cover, math.cos(math.radians(tilt.angle_deg))

    def snapshot(self, tilt: _Tilt, shift: tuple[float, float]) -> RGB:
        """What the camera would see, without the screen's light (for the adaptive search)."""
        picture, cover, _ = self.view(tilt, shift)
        linear = cover[..., None] * picture + (1 - cover[..., None]) * self.room
        return encode_srgb(linear)


def _objective(direction: str, base: tuple[float, float], cue: tuple[float, float]) -> float:
    """How far a print's cues moved toward ``direction`` (the yaw or pitch cue of
    :func:`secureface.face.pose_cues`)."""
    ky, kp = AXES[direction]
    return ky * (cue[0] - base[0]) - kp * (cue[1] - base[1])


def _cues(image: RGB) -> tuple[float, float] | None:
    faces = detect_faces(detector(), image, input_size=320)
    if len(faces) != 1:
        return None
    cue = pose_cues(faces[0].landmarks)
    return cue.yaw, cue.pitch


_TILT_CACHE: dict[tuple[int, str, tuple[float, float]], _Tilt] = {}


def _best_tilt(sheet: _Print, direction: str, rise: tuple[float, float]) -> _Tilt:
    """The tilt (20-40 degrees, about an axis within ±20 degrees of the move's own) that moves
    YuNet's cues furthest toward ``direction``: an attacker tuning the print against a
    detector like the server's."""
    key = (id(sheet.head), direction, rise)
    if key in _TILT_CACHE:
        return _TILT_CACHE[key]
    base = _cues(sheet.snapshot(_Tilt(0.0, 0.0), (0.0, 0.0)))
    natural = 0.0 if AXES[direction][0] else 90.0
    best, chosen = -math.inf, _natural_tilt(direction)
    if base is not None:
        for offset in (-20.0, 0.0, 20.0):
            for angle in (20.0, 30.0, 40.0):
                for sign in (1.0, -1.0):
                    tilt = _Tilt(natural + offset, sign * angle)
                    cue = _cues(sheet.snapshot(tilt, rise))
                    if cue is None:
                        continue
                    score = _objective(direction, base, cue)
                    if score > best:
                        best, chosen = score, tilt
    _TILT_CACHE[key] = chosen
    return chosen


def _natural_tilt(direction: str) -> _Tilt:
    """A print tilted the way the head would turn: its image-right half back for ``left``
    (the person's left is the image's right), its top back for ``up``; 30 degrees."""
    ky, kp = AXES[direction]
    return _Tilt(0.0, 30.0 * ky) if ky else _Tilt(90.0, 30.0 * kp)


def flat_print_burst(
    photo: RGB | HeadModel,
    challenge: Challenge,
    seed: int = 0,
    adaptive: bool = True,
    *,
    screen_share: float = 0.15,
    fps: float = FPS,
) -> Burst:
    """A printed photo, cut out around the head, held where a face would be in front of the
    screen, tilted as a plane for each move with a hand's timing; for ``up``/``down`` it is also
    raised/lowered as far as a head's eyes would rise. Paper is diffuse: the whole print
    reflects this session's light like a flat surface facing the screen (cosine of its tilt),
    with no variation across it. ``adaptive`` chooses each move's tilt with YuNet
    (:func:`_best_tilt`); otherwise the print turns the way the head would, 30 degrees.
    """
    rng, times, camera, drift = _setup(seed, challenge, fps)
    lag = float(rng.uniform(0.0, 1000.0 / fps))
    lighting = _lighting(rng, screen_share, (1.0, 1.0, 1.0))
    head = head_of(photo)
    sheet = _Print(head)
    plans = plan_moves(challenge, rng)
    wobble = [sway(rng, 1.5, 0.2, 1.0) for _ in range(2)]
    place = head_translation(rng)
    d = sheet.eye_distance
    tilts: dict[str, tuple[_Tilt, tuple[float, float]]] = {}
    for plan in plans:
        # a head's eyes rise about 0.3 eye distances for a 20-degree pitch (livesim.head)
        rise = (0.0, -0.3 * d * AXES[plan.direction][1])
        tilt = (
            _best_tilt(sheet, plan.direction, rise) if adaptive else _natural_tilt(plan.direction)
        )
        tilts[plan.direction] = (tilt, rise)

    def active(t: float) -> tuple[MovePlan | None, float]:
        for plan in plans:
            level = plan.level(t)
            if level > 0:
                return plan, level
        return None, 0.0

    def pose(t: float) -> tuple[_Tilt, tuple[float, float]]:
        plan, level = active(t)
        dx, dy, _ = place(t)
        shift = (dx * d, dy * d)
        if plan is None:
            return _Tilt(0.0, wobble[0](t)), shift
        tilt, rise = tilts[plan.direction]
        tilt = _Tilt(tilt.axis_deg, tilt.angle_deg * level + wobble[0](t))
        return tilt, (shift[0] + rise[0] * level, shift[1] + rise[1] * level)

    def scene(t: float) -> Shot:
        tilt, shift = pose(t)
        picture, cover, cosine = sheet.view(tilt, shift)
        colour = screen_colour(challenge, t, lag_ms=lag, exposure_ms=camera.exposure_ms)
        received = cover * cosine + (1.0 - cover) * lighting.background
        base = cover[..., None] * picture + (1.0 - cover[..., None]) * sheet.room
        before, _ = pose(t - 5)
        after, _ = pose(t + 5)
        speed = (after.angle_deg - before.angle_deg) * 100  # deg/s
        velocity = (speed * 0.6 * d * math.pi / 180, 0.0)
        return Shot(lit(base, received, colour, lighting, 1.0 + drift(t)), cover, velocity)

    return _film(times, scene, camera)


# --------------------------------------------------------------------------- screen replay

#: Glass reflects ~4 % at normal incidence (Fresnel, n = 1.5); a display's diffuse reflectance
#: is well under 1 % (anti-reflection coatings, black matrix).
SPECULAR = 0.04
DIFFUSE = (0.003, 0.01)
#: Phone white relative to a white paper under the room's light (300-500 cd/m² against ~100).
PHONE_WHITE = (2.0, 5.0)
#: Solid angle of the laptop screen seen from the face, sr (0.03-0.06 m² at 0.35-0.5 m).
SCREEN_SOLID_ANGLE = (0.15, 0.45)


def screen_replay_burst(
    photo: RGB | HeadModel,
    challenge: Challenge,
    seed: int = 0,
    *,
    screen_share: float = 0.15,
    fps: float = FPS,
) -> Burst:
    """A phone held in front of the camera, playing the animation of ``photo`` performing the
    moves (made in advance or sequenced live from clips).

    The phone emits its own light (``PHONE_WHITE``). This session's screen reaches the camera
    only by reflection on the phone: specularly (``SPECULAR`` x the screen's radiance) on the
    part of the glass that mirrors the laptop screen toward the camera (a soft band covering
    30-70 % of the phone: the screen sits below the camera, so its mirror image covers part of
    the phone), and diffusely (``DIFFUSE`` x the screen's illuminance), both the same on the
    face and on the phone's own background. The screen's radiance follows from the share: a
    white screen giving the face ``k = share / (1 - share)`` of the room light has radiance
    ``pi k / solid_angle`` in units of a white paper under the room light. The room around the
    phone gets the background's share.
    """
    rng, times, camera, drift = _setup(seed, challenge, fps)
    lag = float(rng.uniform(0.0, 1000.0 / fps))
    lighting = _lighting(rng, screen_share, (1.0, 1.0, 1.0))
    head = head_of(photo)
    performer = _Performer.make((head,), challenge, rng)
    width, height = FRAME
    phone_w = float(rng.uniform(0.55, 0.75)) * width
    phone_x = width / 2 + float(rng.uniform(-0.08, 0.08)) * width
    phone_top = float(rng.uniform(-0.3, 0.0)) * height
    bezel = float(rng.uniform(4, 8))
    white = float(rng.uniform(*PHONE_WHITE))
    diffuse = float(rng.uniform(*DIFFUSE))
    radiance = math.pi * lighting.ratio / float(rng.uniform(*SCREEN_SOLID_ANGLE))
    split = float(rng.uniform(0.3, 0.7))
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    hand = head_translation(rng)

    def phone_masks(dx: float, dy: float) -> tuple[F32, F32, F32]:
        left, right = phone_x - phone_w / 2 + dx, phone_x + phone_w / 2 + dx
        top, bottom = phone_top + dy, phone_top + dy + 2.1 * phone_w
        inside_x = np.clip(np.minimum(x - left, right - x) + 0.5, 0, 1)
        inside_y = np.clip(np.minimum(y - top, bottom - y) + 0.5, 0, 1)
        body = inside_x * inside_y
        sx = np.clip(np.minimum(x - left, right - x) - bezel + 0.5, 0, 1)
        sy = np.clip(np.minimum(y - top, bottom - y) - bezel + 0.5, 0, 1)
        screen = sx * sy
        along = (y - top) / max(bottom - top, 1.0)  # the lower part mirrors the laptop screen
        cover = 1.0 / (1.0 + np.exp(-(along - (1 - split) * 1.0) / 0.05))
        return (
            body.astype(np.float32),
            screen.astype(np.float32),
            (cover * screen).astype(np.float32),
        )

    the_room = to_linear(room(FRAME, seed=1))
    phone_black = np.full(3, 0.005, np.float32)

    def scene(t: float) -> Shot:
        _, rgb, mask, _, velocity = performer.render(t)
        dx, dy, _ = hand(t)
        body, screen, cover = phone_masks(dx * 4, dy * 4)
        colour = screen_colour(challenge, t, lag_ms=lag, exposure_ms=camera.exposure_ms)
        level = 1.0 + drift(t)
        amb = lighting.ambient_rgb() * level
        emitted = to_linear(rgb) * white
        glass = (
            SPECULAR * radiance * cover[..., None] * colour
            + diffuse * (lighting.ratio * colour + amb)[None, None, :]
        )
        phone = (
            screen[..., None] * emitted
            + (body - screen)[..., None] * phone_black
            + glass * body[..., None]
        )
        around = the_room * (amb + lighting.ratio * lighting.background * colour)
        linear = body[..., None] * phone + (1 - body[..., None]) * around
        return Shot(linear.astype(np.float32), mask * screen, velocity)

    return _film(times, scene, camera)
