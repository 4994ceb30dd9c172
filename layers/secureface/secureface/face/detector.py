"""YuNet (2023mar) face detection: letterbox preprocessing and a numpy decoder of its heads.

The model takes one ``(1, 3, 640, 640)`` float32 BGR tensor in 0..255 and answers, for each
stride ``s`` in 8, 16 and 32, one row per cell of the ``640/s`` x ``640/s`` grid (row-major):
``cls_s`` and ``obj_s`` ``(1, n, 1)`` probabilities, ``bbox_s`` ``(1, n, 4)`` offsets and
``kps_s`` ``(1, n, 10)`` landmark offsets. For the cell at column ``c`` and row ``r``::

    score  = sqrt(clip(cls, 0, 1) * clip(obj, 0, 1))
    centre = ((c + dx) * s, (r + dy) * s);  size = (exp(dw) * s, exp(dh) * s)
    point  = ((c + kx) * s, (r + ky) * s)   for each of the five landmarks

as in OpenCV's ``FaceDetectorYN``. Landmarks are, in image terms, the left-most eye, the
right-most eye, the nose tip, the left and the right mouth corner (the subject's right eye
first in an unmirrored photo).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from secureface.errors import BadRequestError
from secureface.face.inference import InferenceModel, Point, RGBImage, Tensor, output, run_single

#: Side of the square network input.
INPUT_SIZE = 640
#: Feature-map strides of the three heads.
STRIDES = (8, 16, 32)
#: Default minimum score; OpenCV's sample uses 0.9, which misses small and turned faces.
SCORE_THRESHOLD = 0.6
#: Boxes overlapping a better one by more than this IoU are dropped.
NMS_THRESHOLD = 0.3


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face, in the pixel coordinates of the original image.

    Attributes:
        box: ``(x, y, width, height)``, clipped to the image.
        landmarks: five ``(x, y)`` points: eye, eye, nose tip, mouth corner, mouth corner, each
            pair ordered left to right in the image.
        score: detection confidence in [0, 1].
    """

    box: tuple[float, float, float, float]
    landmarks: tuple[Point, Point, Point, Point, Point]
    score: float


def letterbox(image: RGBImage, size: int = INPUT_SIZE) -> tuple[Tensor, float]:
    """Scale ``image`` to fit a ``size`` square keeping its aspect ratio, pad right and bottom.

    Args:
        image: ``(h, w, 3)`` uint8 RGB.
        size: side of the output square.

    Returns:
        The ``(1, 3, size, size)`` float32 BGR tensor in 0..255 and the scale factor applied
        (network coordinates divided by it are image coordinates).

    Raises:
        BadRequestError: ``image`` is not a non-empty ``(h, w, 3)`` uint8 array.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
        raise BadRequestError(reason=f"not an RGB uint8 image: {image.shape} {image.dtype}")
    height, width = image.shape[:2]
    scale = min(size / width, size / height)
    new_w = min(size, max(1, round(width * scale)))
    new_h = min(size, max(1, round(height * scale)))
    resized = image
    if (new_w, new_h) != (width, height):
        picture = Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BILINEAR)
        resized = np.asarray(picture, dtype=np.uint8)
    tensor = np.zeros((1, 3, size, size), dtype=np.float32)
    tensor[0, :, :new_h, :new_w] = resized[:, :, ::-1].transpose(2, 0, 1)  # RGB HWC -> BGR CHW
    return tensor, scale


def detect_faces(
    model: InferenceModel,
    image: RGBImage,
    *,
    score_threshold: float = SCORE_THRESHOLD,
    nms_threshold: float = NMS_THRESHOLD,
    input_size: int = INPUT_SIZE,
) -> list[Face]:
    """Detect faces in an RGB image with YuNet, letterboxed into an ``input_size`` square (a
    multiple of 32; the weights take any such size: 640 for photos, 320 for small burst frames).

    Returns:
        The faces, best score first; empty when there is none.

    Raises:
        BadRequestError: ``image`` is not an RGB uint8 array.
        SecureFaceError: the model failed or is not YuNet.
    """
    if input_size % 32 or input_size < 32:
        raise BadRequestError(reason=f"YuNet input size {input_size} is not a multiple of 32")
    tensor, scale = letterbox(image, input_size)
    outputs = run_single(model, tensor)
    height, width = image.shape[:2]
    return decode_detections(
        outputs,
        scale=scale,
        image_size=(width, height),
        score_threshold=score_threshold,
        nms_threshold=nms_threshold,
        input_size=input_size,
    )


def decode_detections(
    outputs: Mapping[str, Tensor],
    *,
    scale: float,
    image_size: tuple[int, int],
    score_threshold: float = SCORE_THRESHOLD,
    nms_threshold: float = NMS_THRESHOLD,
    input_size: int = INPUT_SIZE,
) -> list[Face]:
    """Turn YuNet's raw head outputs into faces in original image coordinates.

    Args:
        outputs: the twelve ``cls_/obj_/bbox_/kps_{8,16,32}`` tensors of one image.
        scale: the letterbox scale factor (network pixels per image pixel).
        image_size: ``(width, height)`` of the original image, to clip boxes.
        score_threshold: minimum ``sqrt(cls * obj)``.
        nms_threshold: IoU above which a lower-scoring overlapping box is dropped.
        input_size: side of the square network input the outputs belong to.

    Returns:
        The faces, best score first.

    Raises:
        SecureFaceError: an output is missing or has the wrong size.
    """
    scores, boxes, points = _decode_all_strides(outputs, input_size, score_threshold)
    keep = _nms(boxes, scores, nms_threshold)
    width, height = image_size
    faces = []
    for i in keep:
        x1, y1, x2, y2 = np.clip(boxes[i] / scale, 0.0, [width, height, width, height])
        faces.append(
            Face(
                box=(float(x1), float(y1), float(x2 - x1), float(y2 - y1)),
                landmarks=_five_points(points[i] / scale),
                score=float(scores[i]),
            )
        )
    return faces


def _five_points(marks: NDArray[np.float64]) -> tuple[Point, Point, Point, Point, Point]:
    p = [(float(x), float(y)) for x, y in marks]
    return p[0], p[1], p[2], p[3], p[4]


def _decode_all_strides(
    outputs: Mapping[str, Tensor], input_size: int = INPUT_SIZE, score_threshold: float = 0.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Scores ``(n,)``, boxes ``(n, 4)`` as x1 y1 x2 y2, landmarks ``(n, 5, 2)``, network px, of
    the cells scoring at least ``score_threshold`` (only those are decoded)."""
    scores, boxes, points = [], [], []
    for stride in STRIDES:
        cells = input_size // stride
        count = cells * cells
        cls = output(outputs, f"cls_{stride}").astype(np.float64).reshape(count)
        obj = output(outputs, f"obj_{stride}").astype(np.float64).reshape(count)
        bbox = output(outputs, f"bbox_{stride}").astype(np.float64).reshape(count, 4)
        kps = output(outputs, f"kps_{stride}").astype(np.float64).reshape(count, 5, 2)
        score = np.sqrt(np.clip(cls, 0.0, 1.0) * np.clip(obj, 0.0, 1.0))
        kept = np.flatnonzero(score >= score_threshold)
        rows, cols = np.divmod(kept.astype(np.float64), cells)
        grid = np.stack([cols, rows], axis=1)
        centre = (grid + bbox[kept, :2]) * stride
        size = np.exp(np.minimum(bbox[kept, 2:], 10.0)) * stride
        scores.append(score[kept])
        boxes.append(np.concatenate([centre - size / 2, centre + size / 2], axis=1))
        points.append((grid[:, np.newaxis, :] + kps[kept]) * stride)
    return np.concatenate(scores), np.concatenate(boxes), np.concatenate(points)


def _nms(boxes: NDArray[np.float64], scores: NDArray[np.float64], threshold: float) -> list[int]:
    """Greedy non-maximum suppression; indices of the kept boxes, best score first."""
    order = list(np.argsort(-scores, kind="stable"))
    areas = np.prod(np.maximum(boxes[:, 2:] - boxes[:, :2], 0.0), axis=1)
    kept: list[int] = []
    while order:
        best = int(order.pop(0))
        kept.append(best)
        if not order:
            break
        rest = np.array(order)
        top_left = np.maximum(boxes[rest, :2], boxes[best, :2])
        bottom_right = np.minimum(boxes[rest, 2:], boxes[best, 2:])
        inter = np.prod(np.maximum(bottom_right - top_left, 0.0), axis=1)
        iou = inter / np.maximum(areas[rest] + areas[best] - inter, 1e-9)
        order = [int(i) for i, overlap in zip(rest, iou, strict=True) if overlap <= threshold]
    return kept
