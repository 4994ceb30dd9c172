"""Accuracy on every labelled pair the package images allow, and the liveness attack results.

Eight different people ship in packages (scikit-image's astronaut, and other_person, turned and
the five faces of group.jpg from the face-api demo photos). No package ships two independent
photos of one person, so genuine pairs are variants of ONE photo (crop, jitter + JPEG, mirror,
blur, shrink, rendered +-20 degree head turns): they measure robustness to capture changes, not
to ageing, lighting or another camera, and the FRR is optimistic. Impostor pairs cross people:
2 268 variant pairs but only 28 independent pairs of people. The rows say so.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np
from PIL import Image, ImageFilter

from secureface.face.inference import RGBImage
from secureface.verify.liveness import Thresholds, check_liveness
from tests.synth import (
    genuine_sequence,
    people,
    repeated_frame_sequence,
    rotate_head,
    swapped_person_sequence,
    tilt_photo,
    tilted_photo_sequence,
    to_jpeg,
)
from tests.synth.faces import from_jpeg, jitter, landmarks_of
from tests.synth.models import face_engine

Row = tuple[str, str, str, str]
PEOPLE = ("astronaut", "other_person", "turned", "group0", "group1", "group2", "group3", "group4")
CHALLENGES = (("center", "turn_left", "turn_right"), ("center", "turn_right", "turn_left"))
SEEDS = (0, 1, 2)


def variants(image: RGBImage) -> list[RGBImage]:
    """Nine captures of one photo (the first is the photo itself)."""
    picture = Image.fromarray(image)
    w, h = picture.size
    crop = picture.crop((w // 10, h // 20, w, h)).resize((int(w * 0.72), int(h * 0.8)))
    marks = landmarks_of(image)
    return [
        image,
        np.asarray(crop),
        jitter(image, np.random.default_rng(1)),
        from_jpeg(to_jpeg(jitter(image, np.random.default_rng(2)), quality=60)),
        np.ascontiguousarray(image[:, ::-1]),
        np.asarray(picture.filter(ImageFilter.GaussianBlur(1.0))),
        np.asarray(picture.resize((w // 2, h // 2), Image.Resampling.LANCZOS)),
        rotate_head(image, marks, 20.0),
        rotate_head(image, marks, -20.0),
    ]


def embeddings() -> dict[str, list[np.ndarray]]:
    engine = face_engine()
    result = {}
    for name in PEOPLE:
        found = [engine.analyze(v).embedding for v in variants(people.person(name))]
        result[name] = [e for e in found if e is not None]
    return result


def matching_rows(threshold: float) -> list[Row]:
    vectors = embeddings()
    genuine = [float(a @ b) for v in vectors.values() for a, b in combinations(v, 2)]
    impostor = [float(a @ b) for (_, va), (_, vb) in combinations(vectors.items(), 2)
                for a in va for b in vb]  # fmt: skip
    originals = [float(vectors[a][0] @ vectors[b][0]) for a, b in combinations(PEOPLE, 2)]
    far = np.mean(np.array(impostor) >= threshold)
    frr = np.mean(np.array(genuine) < threshold)
    bound = 1 - 0.05 ** (1 / len(originals))  # 95 % upper bound when 0 of n people pairs err
    return [
        (f"FAR at cosine {threshold} ({len(impostor)} impostor variant pairs, "
         f"{len(originals)} people pairs, {len(PEOPLE)} people)", f"{far:.2%}",
         "0 errors; tiny set", f"max impostor {max(impostor):.3f}; photos only: max "
         f"{max(originals):.3f}, 95 % bound on FAR with 0/{len(originals)} errors {bound:.0%}"),
        (f"FRR at cosine {threshold} ({len(genuine)} genuine pairs: variants of ONE photo each)",
         f"{frr:.2%}", "optimistic", f"min genuine {min(genuine):.3f}, "
         f"median {np.median(genuine):.3f}"),
    ]  # fmt: skip


def outcome(make: Callable[[tuple[str, ...], int], list[RGBImage]]) -> list[str]:
    engine = face_engine()
    reasons = []
    for challenge in CHALLENGES:
        for seed in SEEDS:
            frames = [engine.analyze(f) for f in make(challenge, seed)]
            reasons.append(check_liveness(challenge, frames).reason)
    return reasons


def liveness_rows(names: tuple[str, ...] = people.FRONTAL) -> list[Row]:
    other = people.other_person()
    cases: dict[str, tuple[str, Callable[[RGBImage], Callable[..., list[RGBImage]]]]] = {
        "genuine head turn": ("ok", lambda im: lambda c, s: genuine_sequence(im, c, seed=s)),
        "same frame every step (JPEG 95/85/75)": (
            "repeated_frame", lambda im: lambda c, s: repeated_frame_sequence(im, c, seed=s)),
        "flat photo tilted +-40 deg": (
            "liveness_failed", lambda im: lambda c, s: tilted_photo_sequence(im, c, seed=s)),
        "another person in the last step": (
            "identity_changed",
            lambda im: lambda c, s: swapped_person_sequence(im, other, c, seed=s)),
    }  # fmt: skip
    rows = []
    for what, (expected, factory) in cases.items():
        reasons = [r for name in names for r in outcome(factory(people.person(name)))]
        right = sum(r == expected for r in reasons)
        others = sorted({r for r in reasons if r != expected})
        rows.append((f"liveness: {what} ({len(names)} people x 2 orders x {len(SEEDS)} seeds)",
                     f"{right}/{len(reasons)} {expected}", f"all {expected}",
                     f"otherwise: {', '.join(others) or '-'}"))  # fmt: skip
    return rows


def tilt_grid(image: RGBImage) -> list[float]:
    """Yaw cue of the photo flat and under 54 tilts (20/30/40 deg both ways, camera at 0.8/1.5/3
    image widths, axis through the face or half a face width beside it)."""
    engine = face_engine()
    marks = landmarks_of(image)
    face_x = float(np.mean([p[0] for p in marks]))
    width = image.shape[1]
    yaws = [engine.analyze(image).yaw]
    for degrees in (20.0, 30.0, 40.0, -20.0, -30.0, -40.0):
        for distance in (0.8, 1.5, 3.0):
            for offset in (-0.25, 0.0, 0.25):
                tilted = tilt_photo(image, face_x + offset * width / 2, degrees, distance * width)
                yaws.append(engine.analyze(tilted).yaw)
    return [y for y in yaws if y is not None]


def adaptive_tilt_rows(limits: Thresholds) -> list[Row]:
    simple, adaptive = {}, {}
    for name in (*people.FRONTAL, "group4", "other_person"):
        yaws = np.array(tilt_grid(people.person(name)))
        flat = yaws[0]
        simple[name] = min(yaws.max() - flat, flat - yaws.min())
        centres = yaws[np.abs(yaws) <= limits.center_max_abs_yaw]
        adaptive[name] = max(min(yaws.max() - c, c - yaws.min()) for c in centres)
    text = ", ".join(f"{k} {v:.2f}" for k, v in simple.items())
    best = ", ".join(f"{k} {v:.2f}" for k, v in adaptive.items())
    top, top_adaptive = max(simple.values()), max(adaptive.values())
    return [
        ("tilted photo, best of 54 tilts per turn, flat centre frame", f"max {top:.2f}",
         f"< {limits.turn_min_yaw_change} (turn rule)", text),
        ("  same, centre frame also chosen among the tilts (adaptive)", f"max {top_adaptive:.2f}",
         f"< {limits.turn_min_yaw_change}", best),
    ]  # fmt: skip


def run() -> list[Row]:
    limits = Thresholds()
    return matching_rows(limits.match_min_cosine) + liveness_rows() + adaptive_tilt_rows(limits)
