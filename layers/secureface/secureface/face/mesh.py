"""MediaPipe face mesh (``face_landmark.tflite``, mediapipe 0.10.14): 468 points in 3-D.

The model (converted to ONNX, docs/MODELS.md) takes one ``(1, 192, 192, 3)`` float32 tensor,
NHWC, RGB in **0..1** (MediaPipe's ``FaceLandmarkCpu`` graph: ``ImageToTensorCalculator`` with
``output_tensor_float_range {min: 0 max: 1}``), holding a square crop of the face turned upright,
and answers:

- ``conv2d_21`` ``(1, 1, 1, 1404)``: 468 ``(x, y, z)`` points in crop pixels (0..192); ``z`` is
  depth relative to the face's centre, on the same scale as ``x``, smaller = nearer the camera;
- ``conv2d_31`` ``(1, 1, 1, 1)``: the face-presence logit; MediaPipe applies a sigmoid and drops
  the mesh below 0.5.

MediaPipe crops a region of interest (:class:`MeshRegion`) 1.5 times the face, square, rotated by
the eye line so the face is upright in the crop: first from its BlazeFace box, then, while it
tracks, from the previous mesh. Here the first crop comes from the YuNet box (whose proportions
differ from BlazeFace's: :data:`BOX_SCALE` and :data:`BOX_SHIFT` were measured so it matches the
mesh-derived crop on package faces) and the YuNet eyes; by default a second pass crops again from
the first mesh, as MediaPipe's tracking does (:func:`detect_mesh`), which converges: a third pass
changes the crop's side by 1-2 %. Outside the image the crop repeats the edge pixels
(MediaPipe's ``BORDER_REPLICATE``).

Point indices follow MediaPipe's canonical face model: 1 the nose tip, 33 and 263 the outer eye
corners, 133 and 362 the inner ones, 61 and 291 the mouth corners, 152 the chin. MediaPipe names
them for the person (33 is the person's right eye): in an unmirrored photo of an upright face,
point 33 is the image-left eye, which YuNet lists first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from secureface.errors import BadRequestError, SecureFaceError
from secureface.face.detector import Face
from secureface.face.inference import InferenceModel, RGBImage, Tensor, output, run_single

#: Side of the square network input.
INPUT_SIZE = 192
#: Points of the mesh.
POINT_COUNT = 468
#: Output holding the ``(x, y, z)`` of every point, in crop pixels.
POINTS_OUTPUT = "conv2d_21"
#: Output holding the face-presence logit.
PRESENCE_OUTPUT = "conv2d_31"
#: MediaPipe's presence threshold (on the sigmoid of the logit).
PRESENCE_THRESHOLD = 0.5
#: MediaPipe's region of interest: the face's extent scaled by this, made square.
MESH_SCALE = 1.5
#: Side of the first crop over the YuNet box's longer side. The mesh-derived crop measured
#: 1.21-1.47 times it on seven package faces (frontal 1.41-1.47, turned ~1.22).
BOX_SCALE = 1.4
#: The mesh-derived crop's centre sits this far below the YuNet box's centre, in units of the
#: box's longer side (measured +0.01 to +0.07 along the face's down direction).
BOX_SHIFT = 0.04
#: Crop passes of :func:`detect_mesh`: one from the YuNet face, then one from the mesh.
DEFAULT_PASSES = 2

NOSE_TIP = 1
EYE_OUTER = (33, 263)
EYE_INNER = (133, 362)
MOUTH_CORNERS = (61, 291)
CHIN = 152
#: The contour of each eye (the image-left eye of an upright unmirrored face first); their
#: means are the eye centres (:func:`eye_centres`).
EYE_CONTOURS: tuple[tuple[int, ...], tuple[int, ...]] = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
)


@dataclass(frozen=True, slots=True)
class MeshRegion:
    """The square, rotated crop the mesh model sees.

    Attributes:
        centre: ``(x, y)`` of the crop's centre, image pixel coordinates (pixel centres at
            integers).
        side: side of the square, image pixels.
        angle: rotation in radians; the crop's x axis points along ``(cos, sin)`` of it in the
            image (the direction from the image-left eye to the other eye).
    """

    centre: tuple[float, float]
    side: float
    angle: float

    def to_image(self) -> NDArray[np.float64]:
        """The ``(2, 3)`` affine map from crop coordinates (0..192, edges of the crop at 0 and
        192, as the model's outputs) to image pixel coordinates."""
        scale = self.side / INPUT_SIZE
        cos, sin = math.cos(self.angle) * scale, math.sin(self.angle) * scale
        linear = np.array([[cos, -sin], [sin, cos]])
        half = INPUT_SIZE / 2
        shift = np.asarray(self.centre, dtype=np.float64) - linear @ np.array([half, half])
        return np.hstack([linear, shift[:, np.newaxis]])


@dataclass(frozen=True)
class FaceMesh:
    """A face mesh in the coordinates of the image it was measured in.

    Attributes:
        points: ``(468, 3)`` float32: ``x``, ``y`` in image pixels (pixel centres at integers)
            and ``z``, depth relative to the face centre in the same pixels (smaller = nearer).
        presence: the model's face-presence probability (sigmoid of its logit), in [0, 1];
            MediaPipe treats < 0.5 as "no face in this crop".
        region: the crop the points were measured in (the last pass).
    """

    points: NDArray[np.float32]
    presence: float
    region: MeshRegion


def region_from_face(face: Face, scale: float = BOX_SCALE, shift: float = BOX_SHIFT) -> MeshRegion:
    """The first crop: around the YuNet box, turned by the line through its two eyes.

    Raises:
        BadRequestError: the box is empty or not finite, or the two eyes coincide.
    """
    x, y, width, height = face.box
    longest = max(width, height)
    (x1, y1), (x2, y2) = face.landmarks[0], face.landmarks[1]
    if not (math.isfinite(longest) and longest > 0 and scale > 0):
        raise BadRequestError(reason=f"face box {face.box} cannot be cropped at scale {scale}")
    if not math.hypot(x2 - x1, y2 - y1) > 1e-6:  # also rejects NaN
        raise BadRequestError(reason="eye landmarks coincide")
    angle = math.atan2(y2 - y1, x2 - x1)
    down = (-math.sin(angle), math.cos(angle))  # the crop's +y axis in the image
    centre = (
        x + width / 2 + down[0] * shift * longest,
        y + height / 2 + down[1] * shift * longest,
    )
    return MeshRegion(centre=centre, side=longest * scale, angle=angle)


def region_from_mesh(points: NDArray[np.floating], scale: float = MESH_SCALE) -> MeshRegion:
    """MediaPipe's tracking crop: turned by the line from point 33 to point 263, the points'
    extent in that turned frame, scaled by ``scale``, made square.

    (MediaPipe takes the extent in the image's axes, which grows with the head's roll; measuring
    it in the face's own frame keeps the crop the same for a rolled head.)

    Raises:
        BadRequestError: not ``(468, 2 or 3)`` finite points, or points 33 and 263 coincide.
    """
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    if xy.shape != (POINT_COUNT, 2) or not np.all(np.isfinite(xy)):
        raise BadRequestError(reason=f"expected {POINT_COUNT} finite mesh points, got {xy.shape}")
    across = xy[EYE_OUTER[1]] - xy[EYE_OUTER[0]]
    if not float(np.hypot(*across)) > 1e-6:
        raise BadRequestError(reason="mesh eye corners coincide")
    angle = math.atan2(float(across[1]), float(across[0]))
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    local = xy @ rotation  # rows: each point in the face's frame (x along the eyes)
    low, high = local.min(axis=0), local.max(axis=0)
    centre = rotation @ ((low + high) / 2)
    side = float(max(high - low)) * scale
    return MeshRegion(centre=(float(centre[0]), float(centre[1])), side=side, angle=angle)


def mesh_input(image: RGBImage, region: MeshRegion) -> Tensor:
    """Crop ``region`` out of ``image`` into the mesh model's input (edges repeated outside).

    Returns:
        ``(1, 192, 192, 3)`` float32, RGB, 0..1.

    Raises:
        BadRequestError: not an RGB uint8 image, or a degenerate region.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
        raise BadRequestError(reason=f"not an RGB uint8 image: {image.shape} {image.dtype}")
    if not (math.isfinite(region.side) and region.side > 0 and math.isfinite(region.angle)):
        raise BadRequestError(reason=f"mesh crop {region} is degenerate")
    if not all(math.isfinite(c) for c in region.centre):
        raise BadRequestError(reason=f"mesh crop {region} is degenerate")
    matrix = region.to_image()
    corners = np.array([[0, 0], [INPUT_SIZE, 0], [0, INPUT_SIZE], [INPUT_SIZE, INPUT_SIZE]])
    # The pixels the crop touches (bilinear: one more on each side), as a window of the image.
    reach = corners @ matrix[:, :2].T + matrix[:, 2]
    left, top = (math.floor(v) - 1 for v in reach.min(axis=0))
    right, bottom = (math.ceil(v) + 2 for v in reach.max(axis=0))
    window = _window(image, left, top, right, bottom)
    # Pillow maps output coordinates (pixel centres at +0.5) to input ones the same way; the
    # window starts at (left, top), and image pixel centres sit at integers.
    linear = matrix[:, :2]
    shift = matrix[:, 2] + 0.5 - np.array([left, top], dtype=np.float64)
    coefficients = (*linear[0], shift[0], *linear[1], shift[1])
    crop = Image.fromarray(window).transform(
        (INPUT_SIZE, INPUT_SIZE),
        Image.Transform.AFFINE,
        data=tuple(float(c) for c in coefficients),
        resample=Image.Resampling.BILINEAR,
    )
    tensor = np.asarray(crop, dtype=np.float32) / np.float32(255.0)
    return np.ascontiguousarray(tensor[np.newaxis])


def _window(image: RGBImage, left: int, top: int, right: int, bottom: int) -> RGBImage:
    """``image[top:bottom, left:right]``, the edge pixels repeated where it leaves the image."""
    height, width = image.shape[:2]
    inner = image[
        max(top, 0) : max(min(bottom, height), 0), max(left, 0) : max(min(right, width), 0)
    ]
    if inner.size == 0:  # the crop misses the image: repeat its nearest pixel
        nearest = image[min(max(top, 0), height - 1), min(max(left, 0), width - 1)]
        return np.ascontiguousarray(np.broadcast_to(nearest, (bottom - top, right - left, 3)))
    pad = (
        (max(0, -top), max(0, bottom - height)),
        (max(0, -left), max(0, right - width)),
        (0, 0),
    )
    return np.ascontiguousarray(np.pad(inner, pad, mode="edge"))


def decode_mesh(outputs: Mapping[str, Tensor], region: MeshRegion) -> FaceMesh:
    """Map the model's outputs for the crop ``region`` back into image coordinates.

    Raises:
        SecureFaceError: an output is missing, has the wrong size or is not finite.
    """
    raw = output(outputs, POINTS_OUTPUT)
    logit = output(outputs, PRESENCE_OUTPUT)
    if raw.size != POINT_COUNT * 3 or logit.size != 1:
        raise SecureFaceError(reason=f"mesh outputs have {raw.size} and {logit.size} values")
    crop = raw.astype(np.float64).reshape(POINT_COUNT, 3)
    value = float(logit.reshape(()))
    if not (np.all(np.isfinite(crop)) and math.isfinite(value)):
        raise SecureFaceError(reason="mesh output is not finite")
    matrix = region.to_image()
    # The model's x, y are continuous crop coordinates (0 at the crop's edge); to_image maps
    # those onto pixel-centre image coordinates.
    points = np.empty((POINT_COUNT, 3), dtype=np.float64)
    points[:, :2] = crop[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    points[:, 2] = crop[:, 2] * (region.side / INPUT_SIZE)
    presence = 0.5 * (1.0 + math.tanh(value / 2))  # the sigmoid, without overflow
    return FaceMesh(points=points.astype(np.float32), presence=presence, region=region)


def detect_mesh(
    model: InferenceModel, image: RGBImage, face: Face, *, passes: int = DEFAULT_PASSES
) -> FaceMesh:
    """The 468-point mesh of a YuNet face.

    Args:
        model: the face mesh model (role ``landmarks``).
        image: ``(h, w, 3)`` uint8 RGB.
        face: the face, from :func:`secureface.face.detect_faces` on ``image``.
        passes: crops to run: the first around the YuNet face, each next one from the previous
            mesh (MediaPipe's tracking crop). 2 by default (one model run costs about 2 ms).

    Returns:
        The mesh of the last pass and its presence score. A low presence (< 0.5) means the
        model does not see a face in the crop: its points are then meaningless.

    Raises:
        BadRequestError: not an RGB uint8 image, an empty box, coinciding eyes, or
            ``passes < 1``.
        SecureFaceError: the model failed or is not the face mesh model.
    """
    if passes < 1:
        raise BadRequestError(reason=f"face mesh passes must be >= 1, got {passes}")
    region = region_from_face(face)
    mesh = decode_mesh(run_single(model, mesh_input(image, region)), region)
    for _ in range(passes - 1):
        region = region_from_mesh(mesh.points)
        mesh = decode_mesh(run_single(model, mesh_input(image, region)), region)
    return mesh


def face_mesh(model: InferenceModel, image: RGBImage, face: Face) -> NDArray[np.float32]:
    """The ``(468, 3)`` mesh of a YuNet face: ``x``, ``y`` in image pixels and ``z`` (relative
    depth, same scale, smaller = nearer). See :func:`detect_mesh`, which also gives the presence
    score.

    Raises:
        BadRequestError, SecureFaceError: as :func:`detect_mesh`.
    """
    return detect_mesh(model, image, face).points


def eye_centres(points: NDArray[np.floating]) -> NDArray[np.float64]:
    """The ``(2, 2)`` centres (``x``, ``y``) of the two eye contours: the image-left eye of an
    upright unmirrored face first, like YuNet's first two landmarks.

    Raises:
        BadRequestError: not ``(468, 2 or 3)`` points.
    """
    xy = np.asarray(points, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[0] != POINT_COUNT or xy.shape[1] < 2:
        raise BadRequestError(reason=f"expected {POINT_COUNT} mesh points, got {xy.shape}")
    return np.stack([xy[list(contour), :2].mean(axis=0) for contour in EYE_CONTOURS])
