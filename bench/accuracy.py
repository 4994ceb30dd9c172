"""Matching accuracy on every labelled pair the package images allow (liveness: bench/liveness.py).

Eight different people ship in packages (scikit-image's astronaut, and other_person, turned and
the five faces of group.jpg from the face-api demo photos). No package ships two independent
photos of one person, so genuine pairs are variants of ONE photo (crop, jitter + JPEG, mirror,
blur, shrink, rendered +-20 degree head turns): they measure robustness to capture changes, not
to ageing, lighting or another camera, and the FRR is optimistic. Impostor pairs cross people:
2 268 variant pairs but only 28 independent pairs of people. The rows say so.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from PIL import Image, ImageFilter

from facesynth import people, rotate_head, to_jpeg
from facesynth.faces import from_jpeg, jitter, landmarks_of
from facesynth.models import face_engine
from secureface.face.inference import RGBImage
from secureface.verify.liveness import Thresholds

Row = tuple[str, str, str, str]
PEOPLE = ("astronaut", "other_person", "turned", "group0", "group1", "group2", "group3", "group4")


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


def run() -> list[Row]:
    return matching_rows(Thresholds().match_min_cosine)
