"""Fake-camera clips for Chromium (``--use-file-for-fake-video-capture``), made from real photos.

Chromium plays a ``.y4m`` file as the camera and loops it: a recording, made before the session,
which cannot know the session's light. A challenge clip cycles
``center → turn_left → center → turn_right`` (one second each), so whichever order the server's
challenge asks for, the person in the clip performs it within one cycle. Every frame is a
distinct capture (:func:`facesynth.jitter`: scale, shift, brightness, sensor noise), as from a
real camera. A still clip repeats one frame: a photo held to the camera.

Head turns are rendered with :func:`facesynth.rotate_head` (``turn_left`` = the person's OWN
left: in the unmirrored image the nose moves right and the yaw cue grows). A replayed session
(:func:`replayed_session_clip`) is the strongest recording: ``livesim``'s 3-D head from one photo
performing every move out and back, lit by the screen colours of ANOTHER session, as the live
test camera is lit by this one's.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from facesynth import jitter, rotate_head
from facesynth.faces import landmarks_of
from livesim.challenges import seeded_challenge
from livesim.clips import pose_sequences
from livesim.light import DECODE, linear_to_srgb, palette_linear

FPS = 12
#: Rendered head turn, degrees: moves the astronaut's yaw cue by 0.31-0.44 (the page waits for
#: 0.25, the server needs 0.18).
TURN_DEGREES = 50.0
#: The poses of one cycle, with their rotation sign (> 0: the person's own left).
CYCLE = (("center", 0.0), ("turn_left", 1.0), ("center", 0.0), ("turn_right", -1.0))


def rgb_to_i420(image: NDArray[np.uint8]) -> bytes:
    """BT.601 limited-range Y'CbCr 4:2:0 planes (what a webcam delivers), Y then U then V."""
    rgb = image.astype(np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    height, width = y.shape

    def half(plane: NDArray[np.float64]) -> NDArray[np.float64]:
        return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))

    planes = (y, half(u), half(v))
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


def write_y4m(path: Path, frames: Iterable[NDArray[np.uint8]], fps: int = FPS) -> Path:
    """Write RGB frames (even width and height) as an uncompressed 4:2:0 ``.y4m`` file."""
    frames = list(frames)
    height, width = frames[0].shape[:2]
    if width % 2 or height % 2:
        raise ValueError(f"frame size {width}x{height} must be even")
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n" + rgb_to_i420(frame))
    return path


def even(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Crop one pixel row / column if needed so both sides are even."""
    height, width = image.shape[:2]
    return np.ascontiguousarray(image[: height - height % 2, : width - width % 2])


def challenge_clip(
    path: Path, photo: NDArray[np.uint8], *, seconds_per_pose: float = 1.0, seed: int = 0
) -> Path:
    """The person of ``photo`` looking at the camera, turning left, back, turning right."""
    photo = even(photo)
    points = landmarks_of(photo)
    poses = {
        sign: photo if sign == 0 else rotate_head(photo, points, sign * TURN_DEGREES)
        for _, sign in CYCLE
    }
    rng = np.random.default_rng(seed)
    per_pose = round(FPS * seconds_per_pose)
    frames = [jitter(poses[sign], rng) for _, sign in CYCLE for _ in range(per_pose)]
    return write_y4m(path, frames)


def still_clip(path: Path, photo: NDArray[np.uint8], *, seconds: float = 1.0) -> Path:
    """A still photo in front of the camera: one capture, repeated."""
    frame = jitter(even(photo), np.random.default_rng(0))
    return write_y4m(path, [frame] * round(FPS * seconds))


#: The order a replayed session performs its moves in, looped (every direction once).
REPLAY_ORDER = ("center", "left", "center", "up", "center", "right", "center", "down")


def replayed_session_clip(
    path: Path, photo: NDArray[np.uint8], *, fps: int = 15, share: float = 0.15, seed: int = 7
) -> Path:
    """A recording of a live session played back: the 3-D head of ``photo``
    (``livesim.clips.pose_sequences``) turning every way and back, each frame lit as
    tests/e2e/live_camera.js lights it, but by the light schedule of another session
    (``seeded_challenge(seed)``), looped."""
    sequences = pose_sequences(photo, float(fps))
    frames = [frame for key in REPLAY_ORDER for frame in sequences[key]]
    other = seeded_challenge(seed)
    palette = palette_linear()
    k = share / (1 - share)
    lit = []
    for index, (rgb, mask) in enumerate(frames):
        t = (index * 1000 / fps) % other.capture_ms
        colour = next(palette[c] for c, a, b in other.light_intervals() if a <= t < b)
        share_map = (mask if mask.ndim == 2 else mask[..., 0]).astype(np.float32)[..., None] / 255
        linear = DECODE[rgb] * (1 + k * share_map * colour)
        lit.append(even(np.rint(linear_to_srgb(linear) * 255).astype(np.uint8)))
    return write_y4m(path, lit, fps=fps)
