"""SFace (2021dec) face embeddings: preprocessing, L2-normalised 128-d vectors, cosine similarity.

SFace takes one ``(1, 3, 112, 112)`` float32 RGB tensor in 0..255 (the network subtracts 127.5
and multiplies by 1/128 itself) of a face aligned by :func:`secureface.face.align.align_face`,
and outputs ``fc1``, a ``(1, 128)`` feature. Upstream (OpenCV) calls two faces the same person
when the cosine similarity of their features is at least 0.363 (LFW 99.40 %).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from secureface.errors import BadRequestError, SecureFaceError
from secureface.face.inference import InferenceModel, RGBImage, Tensor, output, run_single

#: Side of the aligned face.
INPUT_SIZE = 112
#: Length of an embedding.
EMBEDDING_SIZE = 128
#: Output of the SFace graph.
OUTPUT_NAME = "fc1"


def sface_input(aligned: RGBImage) -> Tensor:
    """Turn an aligned 112 x 112 RGB face into SFace's input tensor.

    Returns:
        ``(1, 3, 112, 112)`` float32, RGB, 0..255.

    Raises:
        BadRequestError: ``aligned`` is not a ``(112, 112, 3)`` uint8 array.
    """
    if aligned.shape != (INPUT_SIZE, INPUT_SIZE, 3) or aligned.dtype != np.uint8:
        raise BadRequestError(reason=f"aligned face is {aligned.shape} {aligned.dtype}")
    chw = aligned.astype(np.float32).transpose(2, 0, 1)
    return np.ascontiguousarray(chw[np.newaxis])


def embed_face(model: InferenceModel, aligned: RGBImage) -> NDArray[np.float32]:
    """The L2-normalised 128-d SFace embedding of an aligned face.

    Raises:
        BadRequestError: ``aligned`` is not a ``(112, 112, 3)`` uint8 array.
        SecureFaceError: the model failed, is not SFace, or returned a zero/non-finite vector.
    """
    feature = output(run_single(model, sface_input(aligned)), OUTPUT_NAME)
    if feature.size != EMBEDDING_SIZE:
        raise SecureFaceError(reason=f"embedding has {feature.size} values")
    return normalise(feature.reshape(EMBEDDING_SIZE))


def normalise(vector: NDArray[np.floating]) -> NDArray[np.float32]:
    """``vector`` scaled to unit L2 norm, as float32.

    Raises:
        SecureFaceError: the vector is zero or not finite.
    """
    values = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(values))
    if not np.isfinite(norm) or norm < 1e-12:
        raise SecureFaceError(reason="embedding is zero or not finite")
    return (values / norm).astype(np.float32)


def cosine_similarity(first: NDArray[np.floating], second: NDArray[np.floating]) -> float:
    """Cosine similarity of two embeddings, in [-1, 1] (1: same direction).

    The inputs need not be normalised.

    Raises:
        BadRequestError: the vectors differ in shape or are not 1-d.
        SecureFaceError: either vector is zero or not finite.
    """
    if first.shape != second.shape or first.ndim != 1:
        raise BadRequestError(reason=f"embedding shapes {first.shape} vs {second.shape}")
    value = float(np.dot(normalise(first).astype(np.float64), normalise(second)))
    return max(-1.0, min(1.0, value))
