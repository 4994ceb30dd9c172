"""Five-point face alignment to the SFace 112 x 112 template.

A least-squares similarity (rotation, uniform scale, translation; Umeyama 1991) maps the five
detector landmarks onto :data:`SFACE_TEMPLATE`; the image is then warped with Pillow. This is the
alignment SFace was trained with (OpenCV's ``FaceRecognizerSF.alignCrop``).

Coordinates follow OpenCV: a pixel's centre sits at integer ``(x, y)``. Pillow puts pixel
centres at ``+0.5``, so :func:`align_face` shifts by half a pixel on both sides of the warp.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from secureface.errors import BadRequestError
from secureface.face.inference import Point, RGBImage

#: Side of the aligned face SFace expects.
ALIGNED_SIZE = 112

#: Where the five landmarks of :class:`~secureface.face.detector.Face` land in the aligned face:
#: eye, eye, nose tip, mouth corner, mouth corner (image left to right).
SFACE_TEMPLATE: NDArray[np.float64] = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)


def estimate_similarity(
    source: NDArray[np.float64], target: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Least-squares similarity transform mapping ``source`` points onto ``target`` points.

    Args:
        source: ``(n, 2)`` points, n >= 2.
        target: ``(n, 2)`` points.

    Returns:
        The ``(2, 3)`` matrix ``M`` with ``target ~= source @ M[:, :2].T + M[:, 2]``.

    Raises:
        BadRequestError: shapes differ, points are not finite, or the source points coincide.
    """
    if source.shape != target.shape or source.ndim != 2 or source.shape[1] != 2:
        raise BadRequestError(reason=f"landmark shapes {source.shape} vs {target.shape}")
    if len(source) < 2 or not (np.all(np.isfinite(source)) and np.all(np.isfinite(target))):
        raise BadRequestError(reason="landmarks are too few or not finite")
    src_mean, dst_mean = source.mean(axis=0), target.mean(axis=0)
    src, dst = source - src_mean, target - dst_mean
    src_var = float((src**2).sum() / len(src))
    if src_var < 1e-6:
        raise BadRequestError(reason="landmarks coincide")
    u, sigma, vt = np.linalg.svd(dst.T @ src / len(src))
    reflection = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        reflection[1, 1] = -1.0  # keep a proper rotation, never a mirror
    rotation = u @ reflection @ vt
    scale = float(np.trace(np.diag(sigma) @ reflection)) / src_var
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, np.newaxis]])


def align_face(image: RGBImage, landmarks: Sequence[Point], size: int = ALIGNED_SIZE) -> RGBImage:
    """Warp the face with these five landmarks onto the SFace template.

    Args:
        image: ``(h, w, 3)`` uint8 RGB.
        landmarks: the detector's five points, in ``image`` pixel coordinates.
        size: output side; the template is scaled by ``size / 112``.

    Returns:
        The ``(size, size, 3)`` uint8 RGB aligned face; areas outside the image are black.

    Raises:
        BadRequestError: not five finite, distinct landmarks, or not an RGB uint8 image.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise BadRequestError(reason=f"not an RGB uint8 image: {image.shape} {image.dtype}")
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (5, 2):
        raise BadRequestError(reason=f"expected 5 landmarks, got shape {points.shape}")
    forward = estimate_similarity(points, SFACE_TEMPLATE * (size / ALIGNED_SIZE))
    inverse = _invert_affine(forward)
    # Pillow maps output pixel-centre coordinates (u + 0.5) to input coordinates (x + 0.5).
    linear, shift = inverse[:, :2], inverse[:, 2]
    shift = shift + 0.5 - linear @ np.array([0.5, 0.5])
    coefficients = (*linear[0], shift[0], *linear[1], shift[1])
    warped = Image.fromarray(image).transform(
        (size, size),
        Image.Transform.AFFINE,
        data=tuple(float(c) for c in coefficients),
        resample=Image.Resampling.BILINEAR,
        fillcolor=(0, 0, 0),
    )
    return np.ascontiguousarray(np.asarray(warped, dtype=np.uint8))


def transform_points(matrix: NDArray[np.float64], points: Sequence[Point]) -> NDArray[np.float64]:
    """Apply a ``(2, 3)`` affine matrix to ``(n, 2)`` points.

    Raises:
        BadRequestError: ``matrix`` is not ``(2, 3)`` or the points are not ``(n, 2)``.
    """
    array = np.asarray(points, dtype=np.float64)
    if matrix.shape != (2, 3) or array.ndim != 2 or array.shape[1] != 2:
        raise BadRequestError(reason=f"affine {matrix.shape} on points {array.shape}")
    result: NDArray[np.float64] = array @ matrix[:, :2].T + matrix[:, 2]
    return result


def _invert_affine(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Inverse of a ``(2, 3)`` affine matrix (non-singular by construction here)."""
    linear_inv = np.linalg.inv(matrix[:, :2])
    return np.hstack([linear_inv, (-linear_inv @ matrix[:, 2])[:, np.newaxis]])
