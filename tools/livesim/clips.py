"""Pose clips for the browser end-to-end harness, which lights them itself.

:func:`pose_sequences` renders a head for each move: ``center`` (a little sway), and ``left``,
``right``, ``up``, ``down`` out and back (about 1.2 s: 100 ms still, a 400 ms minimum-jerk
movement out to 28 degrees of yaw / 20 of pitch, 200 ms held, 400 ms back, 100 ms still). No
screen light is applied: the page knows which colour it shows, and lights each frame with the
mask, in linear light::

    out_linear = frame_linear * (1 + k * mask / 255 * colour_linear)     k = share / (1 - share)

The mask is each pixel's share of a white screen's light relative to a face point facing the
screen (:func:`livesim.light.reception` with the default :class:`livesim.light.Lighting`): the
head's surface cosine on the head, 0.65 on the neck and shoulders, 1/16 on the room.
:func:`write_pngs` writes the frames and masks as PNG files with a JSON index.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from livesim.bursts import head_of
from livesim.head import FRAME, HeadModel
from livesim.light import Lighting, reception
from livesim.motion import AXES, minimum_jerk, sway
from secureface.sessions.challenge import CENTER, DIRECTIONS

RGB = NDArray[np.uint8]
MASK = NDArray[np.uint8]
KEYS = (CENTER, *DIRECTIONS)
#: Phases of a move clip, ms: still, out, hold, back, still.
PHASES_MS = (100.0, 400.0, 200.0, 400.0, 100.0)
PEAK_DEG = {"left": 28.0, "right": 28.0, "up": 20.0, "down": 20.0}
CENTER_MS = 800.0


def poses(fps: float = 15.0, seed: int = 0) -> dict[str, list[tuple[float, float, float]]]:
    """``(t_ms, yaw, pitch)`` of every frame of every clip (deterministic)."""
    rng = np.random.default_rng(seed)
    sway_yaw, sway_pitch = sway(rng, 1.5, 0.2, 0.6), sway(rng, 1.5, 0.2, 0.6)
    step = 1000.0 / fps
    out: dict[str, list[tuple[float, float, float]]] = {
        "center": [
            (t, sway_yaw(t), sway_pitch(t)) for t in np.arange(0.0, CENTER_MS, step).tolist()
        ]
    }
    still, move, hold, back, _ = PHASES_MS
    for key in KEYS[1:]:
        ky, kp = AXES[key]
        frames = []
        for t in np.arange(0.0, sum(PHASES_MS), step).tolist():
            if t < still:
                level = 0.0
            elif t < still + move:
                level = minimum_jerk((t - still) / move)
            elif t < still + move + hold:
                level = 1.0
            else:
                level = 1.0 - minimum_jerk((t - still - move - hold) / back)
            frames.append((t, ky * PEAK_DEG[key] * level, kp * PEAK_DEG[key] * level))
        out[key] = frames
    return out


def pose_sequences(
    head: HeadModel | RGB, fps: float = 15.0, *, size: tuple[int, int] = FRAME
) -> dict[str, list[tuple[RGB, MASK]]]:
    """For each of ``center``, ``left``, ``right``, ``up``, ``down``: the frames (RGB, no screen
    light) and their light masks (uint8, module docstring), ``size`` = (width, height)."""
    model = head_of(head)
    lighting = Lighting()
    body = model.body_map(size)
    result: dict[str, list[tuple[RGB, MASK]]] = {}
    for key, frames in poses(fps).items():
        clip = []
        for _, yaw, pitch in frames:
            rgb, mask, facing = model.render(yaw, pitch, size=size)
            received = reception(mask, facing, body, lighting)
            clip.append(
                (
                    np.array(rgb, dtype=np.uint8),
                    np.clip(received * 255 + 0.5, 0, 255).astype(np.uint8),
                )
            )
        result[key] = clip
    return result


def write_pngs(
    sequences: dict[str, list[tuple[RGB, MASK]]], folder: str | Path, *, fps: float | None = 15.0
) -> dict[str, Any]:
    """Write every frame as ``<key>_<nnn>.png`` and its mask as ``<key>_<nnn>_mask.png`` in
    ``folder``, and ``manifest.json`` indexing them (with each frame's time and pose when
    ``fps`` is the one the sequences were made with). Returns the manifest."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    timing = poses(fps) if fps else {}
    manifest: dict[str, Any] = {
        "format": "livesim.clips/1",
        "fps": fps,
        "size": None,
        "light": (
            "out_linear = frame_linear * (1 + k * mask/255 * colour_linear), k = share/(1-share);"
            " sRGB decode before, encode after"
        ),
        "sequences": {},
    }
    for key, frames in sequences.items():
        entries = []
        for index, (rgb, mask) in enumerate(frames):
            image_name, mask_name = f"{key}_{index:03d}.png", f"{key}_{index:03d}_mask.png"
            Image.fromarray(rgb).save(root / image_name, optimize=False)
            Image.fromarray(mask).save(root / mask_name, optimize=False)
            manifest["size"] = [int(rgb.shape[1]), int(rgb.shape[0])]
            entry: dict[str, Any] = {"image": image_name, "mask": mask_name}
            if key in timing and index < len(timing[key]):
                t, yaw, pitch = timing[key][index]
                entry.update(t_ms=round(t, 1), yaw_deg=round(yaw, 2), pitch_deg=round(pitch, 2))
            entries.append(entry)
        manifest["sequences"][key] = entries
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
