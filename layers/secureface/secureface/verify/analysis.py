"""What the server measures in one camera frame, and enrollment templates with quality checks.

:class:`FaceEngine` runs the three models on a frame: YuNet finds the faces; for exactly one face
it aligns it, embeds it with SFace, scores it with the anti-spoof model, and reads the pose cues
and two quality measures (:class:`FrameAnalysis`: enrollment and :mod:`secureface.verify.match`).
For a verify burst it scans every frame cheaply (:meth:`FaceEngine.scan`: detector, pose, the
face's and the background's colour) and embeds and meshes only the frames the liveness rules
ask for (:mod:`secureface.verify.burst`).

Quality defaults (each measured, docs/LIVENESS.md):

- face size = eye distance in pixels (the scale SFace alignment maps to 35 px), at least
  :data:`MIN_FACE_SIZE`;
- sharpness = variance of the Laplacian of the aligned 112 x 112 grey face, at least
  :data:`MIN_SHARPNESS`;
- near-frontal = ``|yaw| <= FRONTAL_MAX_ABS_YAW``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from secureface.errors import BadRequestError
from secureface.face import (
    Face,
    InferenceModel,
    align_face,
    detect_faces,
    detect_mesh,
    embed_face,
    pose_cues,
    real_score,
)
from secureface.face.embedder import normalise
from secureface.face.inference import RGBImage

#: Smallest usable face: eye distance in pixels. Package faces shrunk to 21-24 px keep a cosine
#: of 0.87-0.99 to their full-size embedding; at 12-15 px it falls to 0.65-0.97.
MIN_FACE_SIZE = 24.0
#: Least variance of the Laplacian of the aligned grey face (sharp package faces and their
#: rendered head turns: 70-545; under a Gaussian blur of radius 2 px: 10-42).
MIN_SHARPNESS = 30.0
#: Largest |yaw cue| of a frontal face (frontal package faces: within 0.22; a visibly turned
#: face: 0.42).
FRONTAL_MAX_ABS_YAW = 0.25
#: Least face-presence probability of the face mesh for its points to count.
MESH_PRESENCE = 0.5
#: Side of the fingerprint thumbnail (see :func:`fingerprint`).
FINGERPRINT_SIDE = 16
#: Fingerprint quantisation: one standard deviation of grey level is this many steps.
FINGERPRINT_STEPS = 32.0

Quality = Literal["no_face", "multiple_faces", "face_too_small", "blurry", "not_frontal"]


class FaceQualityError(BadRequestError):
    """A picture cannot be used: no face, several faces, or a face of too low quality.

    Attributes:
        quality: the precise cause, one of ``no_face``, ``multiple_faces``, ``face_too_small``,
            ``blurry``, ``not_frontal``.
    """

    code = "face_rejected"
    http_status = 422
    public_message = "Face image rejected"

    def __init__(self, quality: Quality, message: str) -> None:
        super().__init__(message, reason=f"{quality}: {message}")
        self.quality: Quality = quality


class EnrollmentQualityError(FaceQualityError):
    """An enrollment picture was refused; :attr:`quality` says why, the message says which."""

    code = "enrollment_rejected"
    public_message = "Enrollment image rejected"


@dataclass(frozen=True)
class EnrollmentQuality:
    """Quality limits every enrollment picture must meet (defaults: module constants)."""

    min_face_size: float = MIN_FACE_SIZE
    min_sharpness: float = MIN_SHARPNESS
    max_abs_yaw: float = FRONTAL_MAX_ABS_YAW


@dataclass(frozen=True)
class FrameScan:
    """The cheap measurements taken on EVERY frame of a verify burst (detector only).

    Attributes:
        face_count: faces YuNet found.
        face: the face when ``face_count == 1``.
        yaw: yaw cue of the face (:mod:`secureface.face.pose`).
        eye_distance: pixels.
        face_rgb: mean linear RGB (0..1) of the inner face (eyes to mouth, unclipped pixels).
        background_rgb: mean linear RGB of the frame's upper side strips, away from the face.
        face_luma: mean sRGB luma (0..255) of the inner face, for the "too dark" hint.
    """

    face_count: int
    face: Face | None
    yaw: float | None
    eye_distance: float | None
    face_rgb: tuple[float, float, float] | None
    background_rgb: tuple[float, float, float]
    face_luma: float | None


@dataclass(frozen=True)
class FrameAnalysis:
    """The server's measurements of one frame. Never log :attr:`embedding` or
    :attr:`fingerprint`: both are derived from the face.

    Attributes:
        face_count: faces YuNet found (score >= 0.6).
        face: the face when ``face_count == 1``, else ``None`` (as every field below but
            :attr:`fingerprint`).
        yaw: yaw cue (secureface.face.pose: > 0 when the person turned toward their own left).
        pitch: pitch cue (about 0.57 frontal).
        embedding: L2-normalised 128-d SFace embedding of the aligned face.
        antispoof: the anti-spoof model's "real" probability (weak, auxiliary).
        sharpness: variance of the Laplacian of the aligned grey face.
        face_size: eye distance in pixels.
        fingerprint: :func:`fingerprint` of the aligned face (of the whole frame when there is
            not exactly one face): compared with :func:`fingerprint_distance`.
    """

    face_count: int
    face: Face | None
    yaw: float | None
    pitch: float | None
    embedding: NDArray[np.float32] | None
    antispoof: float | None
    sharpness: float | None
    face_size: float | None
    fingerprint: bytes


class FaceEngine:
    """Runs detection, alignment, embedding and anti-spoof on frames.

    Args:
        detector: YuNet 2023mar.
        embedder: SFace 2021dec.
        antispoof: Human's anti-spoof model.
        quality: limits for :meth:`enrollment_embedding`.
    """

    def __init__(
        self,
        detector: InferenceModel,
        embedder: InferenceModel,
        antispoof: InferenceModel,
        *,
        landmarks: InferenceModel | None = None,
        quality: EnrollmentQuality = EnrollmentQuality(),  # noqa: B008 (frozen, immutable)
    ) -> None:
        self._detector = detector
        self._embedder = embedder
        self._antispoof = antispoof
        self._landmarks = landmarks
        self.quality = quality

    def mesh_points(self, image: RGBImage, face: Face) -> NDArray[np.float64] | None:
        """The face mesh's 468 points ``(x, y)`` in image pixels, or ``None`` when the mesh model
        sees no face there (presence < 0.5).

        Raises:
            BadRequestError: the engine was built without the face-mesh model.
        """
        if self._landmarks is None:
            raise BadRequestError(reason="no face-mesh model loaded")
        mesh = detect_mesh(self._landmarks, image, face)
        if mesh.presence < MESH_PRESENCE:
            return None
        return np.asarray(mesh.points[:, :2], dtype=np.float64)

    def scan(self, image: RGBImage) -> FrameScan:
        """The cheap per-frame measurements of a burst frame (no embedding).

        Raises:
            BadRequestError: ``image`` is not an RGB uint8 array.
            SecureFaceError: the detector failed.
        """
        side = max(image.shape[:2])
        size = min(640, max(160, -(-side // 32) * 32))
        faces = detect_faces(self._detector, image, input_size=size)
        background = _background_rgb(image, faces[0] if len(faces) == 1 else None)
        if len(faces) != 1:
            return FrameScan(len(faces), None, None, None, None, background, None)
        face = faces[0]
        region = _inner_face(image.shape[:2], face)
        pixels = image[region].reshape(-1, 3)
        unclipped = pixels.max(axis=1) < 250
        face_rgb = luma = None
        if unclipped.sum() >= 16:
            mean = LINEAR_LUT[pixels[unclipped]].mean(axis=0)
            face_rgb = (float(mean[0]), float(mean[1]), float(mean[2]))
            luma = float((pixels[unclipped] @ np.array([0.299, 0.587, 0.114])).mean())
        return FrameScan(
            1, face, pose_cues(face.landmarks).yaw, eye_distance(face), face_rgb, background, luma
        )

    def embed(self, image: RGBImage, face: Face) -> tuple[NDArray[np.float32], bytes]:
        """The SFace embedding of ``face`` in ``image`` and its aligned face's fingerprint."""
        aligned = align_face(image, face.landmarks)
        return embed_face(self._embedder, aligned), fingerprint(aligned)

    def spoof_score(self, image: RGBImage, face: Face) -> float:
        """The anti-spoof model's "real" score (weak, auxiliary)."""
        return real_score(self._antispoof, image, face)

    def analyze(self, image: RGBImage) -> FrameAnalysis:
        """Measure one RGB frame.

        Raises:
            BadRequestError: ``image`` is not an RGB uint8 array.
            SecureFaceError: a model failed or is not the expected model.
        """
        faces = detect_faces(self._detector, image)
        if len(faces) != 1:
            return FrameAnalysis(
                face_count=len(faces), face=None, yaw=None, pitch=None, embedding=None,
                antispoof=None, sharpness=None, face_size=None, fingerprint=fingerprint(image),
            )  # fmt: skip
        face = faces[0]
        aligned = align_face(image, face.landmarks)
        cues = pose_cues(face.landmarks)
        return FrameAnalysis(
            face_count=1,
            face=face,
            yaw=cues.yaw,
            pitch=cues.pitch,
            embedding=embed_face(self._embedder, aligned),
            antispoof=real_score(self._antispoof, image, face),
            sharpness=sharpness(aligned),
            face_size=eye_distance(face),
            fingerprint=fingerprint(aligned),
        )

    def enrollment_embedding(self, images: Sequence[RGBImage]) -> NDArray[np.float32]:
        """The enrollment template: the L2-normalised mean of the pictures' embeddings.

        Every picture must hold exactly one face, large, sharp and near-frontal enough.

        Raises:
            BadRequestError: ``images`` is empty, or one is not an RGB uint8 array.
            EnrollmentQualityError: a picture failed a quality check; ``quality`` says which
                check and the message names the picture by its index.
            SecureFaceError: a model failed.
        """
        if not images:
            raise BadRequestError("No enrollment images")
        embeddings = []
        for index, image in enumerate(images):
            analysis = self.analyze(image)
            problem = quality_problem(analysis, self.quality)
            if problem is not None or analysis.embedding is None:
                quality, why = problem or ("no_face", "no face found")
                raise EnrollmentQualityError(quality, f"Enrollment image {index}: {why}")
            embeddings.append(analysis.embedding.astype(np.float64))
        return normalise(np.mean(embeddings, axis=0))


def quality_problem(
    analysis: FrameAnalysis, limits: EnrollmentQuality
) -> tuple[Quality, str] | None:
    """The first quality check ``analysis`` fails, with a human-readable cause, or ``None``."""
    if analysis.face_count == 0:
        return "no_face", "no face found"
    if analysis.face_count > 1:
        return "multiple_faces", f"{analysis.face_count} faces found, expected one"
    size, sharp, yaw = analysis.face_size, analysis.sharpness, analysis.yaw
    if size is None or sharp is None or yaw is None:
        return "no_face", "no face measurements"
    if size < limits.min_face_size:
        needed = f"{size:.0f} px between the eyes, at least {limits.min_face_size:.0f}"
        return "face_too_small", f"face too small ({needed})"
    if sharp < limits.min_sharpness:
        return "blurry", "face too blurry"
    if abs(yaw) > limits.max_abs_yaw:
        return "not_frontal", "face not looking straight at the camera"
    return None


#: sRGB 0..255 → linear light 0..1 (IEC 61966-2-1), a lookup table.
_SRGB = np.arange(256, dtype=np.float64) / 255.0
LINEAR_LUT = np.where(_SRGB <= 0.04045, _SRGB / 12.92, ((_SRGB + 0.055) / 1.055) ** 2.4).astype(
    np.float32
)


def _inner_face(shape: tuple[int, ...], face: Face) -> tuple[slice, slice]:
    """Rows and columns of the skin between the eyes and the mouth (cheeks and nose)."""
    points = np.asarray(face.landmarks, dtype=np.float64)
    d = max(eye_distance(face), 1.0)
    top = points[:2, 1].mean() + 0.15 * d
    bottom = max(points[3:, 1].mean(), top + 0.3 * d)
    left, right = points[:, 0].min() - 0.05 * d, points[:, 0].max() + 0.05 * d
    height, width = shape[0], shape[1]
    rows = slice(int(np.clip(top, 0, height - 1)), int(np.clip(bottom, 1, height)))
    cols = slice(int(np.clip(left, 0, width - 1)), int(np.clip(right, 1, width)))
    return rows, cols


def _background_rgb(image: RGBImage, face: Face | None) -> tuple[float, float, float]:
    """Mean linear RGB of the upper side strips (outer fifth of the width, upper half of the
    height), leaving out columns within one face width of the face's centre."""
    height, width = image.shape[:2]
    columns = np.arange(width)
    strips = (columns < width * 0.2) | (columns >= width * 0.8)
    if face is not None:
        x, _, w, _ = face.box
        strips &= np.abs(columns - (x + w / 2)) > w
    if not strips.any():
        strips = (columns < width * 0.05) | (columns >= width * 0.95)
    mean = LINEAR_LUT[image[: max(height // 2, 1)][:, strips].reshape(-1, 3)].mean(axis=0)
    return (float(mean[0]), float(mean[1]), float(mean[2]))


def eye_distance(face: Face) -> float:
    """Distance between the two eye landmarks, in pixels."""
    (x1, y1), (x2, y2) = face.landmarks[0], face.landmarks[1]
    return float(np.hypot(x2 - x1, y2 - y1))


def grey(image: RGBImage) -> NDArray[np.float64]:
    """ITU-R BT.601 luma of an RGB image, float64 in 0..255."""
    weights = np.array([0.299, 0.587, 0.114])
    result: NDArray[np.float64] = image.astype(np.float64) @ weights
    return result


def sharpness(aligned: RGBImage) -> float:
    """Variance of the 4-neighbour Laplacian of the grey image (higher: sharper)."""
    g = grey(aligned)
    laplacian = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(laplacian.var())


def fingerprint(image: RGBImage) -> bytes:
    """A 256-byte fingerprint of a picture, tolerant to re-encoding and brightness.

    The grey picture is area-averaged down to 16 x 16, standardised (zero mean, unit standard
    deviation: brightness and contrast changes cancel) and quantised to signed bytes, 32 steps per
    standard deviation. Two captures of the same frame, even JPEG re-encoded, differ by a small
    :func:`fingerprint_distance`; two real captures of a head turn differ a lot. It is a tiny
    face thumbnail: biometric data, never logged or stored.
    """
    side = FINGERPRINT_SIDE
    small = Image.fromarray(np.clip(grey(image), 0, 255).astype(np.uint8)).resize(
        (side, side), Image.Resampling.BOX
    )
    values = np.asarray(small, dtype=np.float64)
    spread = max(float(values.std()), 1.0)
    scaled = (values - values.mean()) / spread * FINGERPRINT_STEPS
    return bytes(np.clip(np.rint(scaled), -127, 127).astype(np.int8).tobytes())


def fingerprint_distance(first: bytes, second: bytes) -> float:
    """Mean absolute difference of two fingerprints, in standard deviations of grey level.

    Raises:
        BadRequestError: the fingerprints differ in length or are empty.
    """
    if len(first) != len(second) or not first:
        raise BadRequestError(reason=f"fingerprint lengths {len(first)} vs {len(second)}")
    a = np.frombuffer(first, dtype=np.int8).astype(np.float64)
    b = np.frombuffer(second, dtype=np.int8).astype(np.float64)
    return float(np.abs(a - b).mean()) / FINGERPRINT_STEPS
