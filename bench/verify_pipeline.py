"""Server-side analysis of one verify request (3 frames) with our pipeline, against OpenCV's
``FaceDetectorYN`` + ``FaceRecognizerSF`` doing detection, alignment and embedding of the same
frames with the same ONNX files, measured in the same run.

OpenCV (``opencv-python-headless``, a development dependency only: the package never imports
it) loads our ``s3-uploads`` files as they are, from bytes. Both sides use 2 threads.

Each contender runs in its own process: merely importing cv2 in the same process slowed our
onnxruntime + Pillow pipeline from 28 to 35 ms a frame here, and the two libraries' thread pools
compete when interleaved. The production verify function never imports cv2.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from facesynth import genuine_sequence, people
from facesynth.models import ROOT, UPLOADS, face_engine, model
from secureface.face import align_face, detect_faces, embed_face
from secureface.face.inference import RGBImage

Row = tuple[str, str, str, str]
CHALLENGE = ("center", "turn_left", "turn_right")
RUNS = 40


def frames() -> list[RGBImage]:
    """The 3 frames of one request: a genuine astronaut sequence, 512 x 512."""
    return genuine_sequence(people.astronaut(), CHALLENGE)


def timed(func: Callable[[], object], runs: int = RUNS) -> list[float]:
    """Wall times of ``func`` in ms, after two warm-up calls."""
    func()
    func()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def ours_embed(image: RGBImage) -> np.ndarray:
    face = detect_faces(model("detector"), image)[0]
    return embed_face(model("embedding"), align_face(image, face.landmarks))


def opencv_embedder(input_side: int | None) -> Callable[[RGBImage], np.ndarray]:
    """Detection + ``alignCrop`` + ``feature`` with OpenCV's face classes (imported here only)."""
    import cv2

    cv2.setNumThreads(2)
    empty = np.zeros(0, dtype=np.uint8)
    yunet = np.frombuffer((UPLOADS / "yunet-2023mar.onnx").read_bytes(), dtype=np.uint8)
    sface = np.frombuffer((UPLOADS / "sface-2021dec.onnx").read_bytes(), dtype=np.uint8)
    detector = cv2.FaceDetectorYN.create("onnx", yunet, empty, (320, 320), 0.6, 0.3)
    recognizer = cv2.FaceRecognizerSF.create("onnx", sface, empty)

    def embed(image: RGBImage) -> np.ndarray:
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        if input_side is not None:  # scale to the network size, as our letterbox does
            scale = input_side / max(bgr.shape[:2])
            bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        detector.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, faces = detector.detect(bgr)
        feature = recognizer.feature(recognizer.alignCrop(bgr, faces[0])).reshape(-1)
        return np.asarray(feature / np.linalg.norm(feature), dtype=np.float32)

    return embed


def measure(kind: str) -> dict[str, Any]:
    """Run one contender in this process: its samples and its embeddings of the frames."""
    images = frames()
    if kind == "ours":
        engine = face_engine()
        full = timed(lambda: [engine.analyze(f) for f in images])
        embed = ours_embed
        return {"full": full, "embed": timed(lambda: [embed(f) for f in images]),
                "vectors": [embed(f).tolist() for f in images]}  # fmt: skip
    embed = opencv_embedder(640 if kind == "opencv640" else None)
    import cv2

    return {"embed": timed(lambda: [embed(f) for f in images]), "version": cv2.__version__,
            "vectors": [embed(f).tolist() for f in images]}  # fmt: skip


def in_process(kind: str) -> dict[str, Any]:
    call = f"json.dumps(measure({kind!r}))"
    code = f"import json; from bench.verify_pipeline import measure; print({call})"
    paths = f"{ROOT / 'layers/secureface'}:{ROOT}"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True,
                         text=True, env={"PYTHONPATH": paths, "PATH": "/usr/bin:/bin"})  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def ms(samples: list[float]) -> str:
    return f"p50 {np.percentile(samples, 50):.1f} / p99 {np.percentile(samples, 99):.1f} ms"


def run() -> list[Row]:
    ours, native, same = in_process("ours"), in_process("opencv"), in_process("opencv640")
    agreement = min(
        float(np.dot(a, b)) for a, b in zip(ours["vectors"], same["vectors"], strict=True)
    )
    what = f"verify analysis, 3 frames 512x512, {RUNS} runs"
    baseline = f"OpenCV {native['version']} YN+SF at frame size: {ms(native['embed'])}"
    return [
        (f"{what}: detect+align+embed+anti-spoof+cues", ms(ours["full"]),
         "≤ 120 / 250 ms for all of /verify", baseline),
        ("  same, detect+align+embed only (the work OpenCV does)", ms(ours["embed"]),
         "≈ OpenCV", f"OpenCV at 640 px input (as ours): {ms(same['embed'])}"),
        ("  embeddings ours vs OpenCV, same 640 px input", f"cosine ≥ {agreement:.4f}",
         "≥ 0.99", "MODELS.md: same landmarks, alignment 0.9998"),
    ]  # fmt: skip
