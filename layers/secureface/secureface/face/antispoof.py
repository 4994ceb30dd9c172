"""Passive anti-spoof score with the Human (``@vladmandic/human`` 3.3.6) ``antispoof`` model.

The model (a small Keras CNN, converted from its tfjs graph to ONNX) takes one
``(1, 128, 128, 3)`` float32 tensor, NHWC, RGB in 0..1, and outputs ``activation_4``, a
``(1, 1)`` sigmoid probability that the face is real. Human feeds it the face crop of its
BlazeFace detector: the box enlarged 1.4 times around its centre, made square, resized
bilinearly; :func:`antispoof_input` rebuilds that crop from a YuNet box.

The score is weak: real people score about 0.4-0.7, so it is an auxiliary signal and never
decides on its own (see docs/MODELS.md).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from secureface.errors import BadRequestError, SecureFaceError
from secureface.face.detector import Face
from secureface.face.inference import InferenceModel, RGBImage, Tensor, output, run_single

#: Side of the square input.
INPUT_SIZE = 128
#: Output of the converted graph.
OUTPUT_NAME = "activation_4"
#: Human's default ``face.detector.scale``: how much the detector box is enlarged.
CROP_SCALE = 1.4


def crop_box(face: Face, scale: float = CROP_SCALE) -> tuple[int, int, int, int]:
    """The square crop around a face, as Human builds it: ``(left, top, right, bottom)``.

    The crop may extend past the image; :func:`antispoof_input` fills that part with black.

    Raises:
        BadRequestError: the face box is empty or not finite, or ``scale`` is not positive.
    """
    x, y, width, height = face.box
    side = max(width, height) * scale
    if not (math.isfinite(side) and side > 0):
        raise BadRequestError(reason=f"face box {face.box} cannot be cropped at scale {scale}")
    centre_x, centre_y = x + width / 2, y + height / 2
    left, top = round(centre_x - side / 2), round(centre_y - side / 2)
    size = max(1, round(side))
    return left, top, left + size, top + size


def antispoof_input(image: RGBImage, face: Face, scale: float = CROP_SCALE) -> Tensor:
    """Crop and resize the face for the anti-spoof model.

    Args:
        image: ``(h, w, 3)`` uint8 RGB.
        face: the detected face.
        scale: box enlargement factor.

    Returns:
        ``(1, 128, 128, 3)`` float32, RGB, 0..1.

    Raises:
        BadRequestError: not an RGB uint8 image, or an empty face box.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise BadRequestError(reason=f"not an RGB uint8 image: {image.shape} {image.dtype}")
    crop = Image.fromarray(image).crop(crop_box(face, scale))
    resized = crop.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR)
    tensor = np.asarray(resized, dtype=np.float32) / np.float32(255.0)
    return np.ascontiguousarray(tensor[np.newaxis])


def real_score(model: InferenceModel, image: RGBImage, face: Face) -> float:
    """Probability in [0, 1] that ``face`` is a live person rather than a replayed picture.

    Raises:
        BadRequestError: not an RGB uint8 image, or an empty face box.
        SecureFaceError: the model failed, is not the anti-spoof model, or returned a value
            that is not a probability.
    """
    probability = output(run_single(model, antispoof_input(image, face)), OUTPUT_NAME)
    if probability.size != 1:
        raise SecureFaceError(reason=f"anti-spoof output has {probability.size} values")
    value = float(probability.reshape(()))
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise SecureFaceError(reason=f"anti-spoof output {value} is not a probability")
    return value
