"""Safe decoding of untrusted image bytes into RGB arrays.

Camera frames arrive from the client, so every decode is bounded: the byte count is checked
first, then the pixel count is read from the header and refused *before* any pixel is decoded
(a 100 000 x 100 000 PNG is a few hundred bytes). Only the formats a browser canvas produces
are accepted (JPEG, PNG, WebP), which also keeps Pillow's rarer decoders out of reach.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from secureface.errors import BadRequestError, PayloadTooLargeError
from secureface.face.inference import RGBImage

#: Largest accepted image: 4096 x 4096 pixels (a 1080p frame is 2.1 MP).
MAX_PIXELS = 4096 * 4096
#: Largest accepted encoded image.
MAX_BYTES = 8 * 1024 * 1024
#: Formats a browser produces with ``canvas.toBlob``; anything else is refused.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")

# Pillow's own bomb guard, a second line behind the explicit check in ``_open`` (which runs
# first and is not a warning): Pillow warns above this many pixels and raises above twice as many.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Errors Pillow raises on garbage, truncated or hostile input.
_DECODE_ERRORS = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    MemoryError,
)


def decode_image(
    data: bytes,
    *,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_BYTES,
    max_side: int = 0,
    formats: tuple[str, ...] = ALLOWED_FORMATS,
) -> RGBImage:
    """Decode JPEG/PNG/WebP bytes into an upright ``(height, width, 3)`` uint8 RGB array.

    The EXIF orientation is applied, transparency is dropped, greyscale and palette images are
    expanded to RGB.

    Args:
        data: the encoded image.
        max_pixels: refuse images with more pixels than this, before decoding them.
        max_bytes: refuse encoded images longer than this.
        max_side: when non-zero, refuse images wider or taller than this, before decoding.
        formats: the Pillow formats accepted (a subset of :data:`ALLOWED_FORMATS`).

    Returns:
        The pixels, C-contiguous.

    Raises:
        PayloadTooLargeError: ``data`` is longer than ``max_bytes``.
        BadRequestError: empty, not an allowed format, truncated, corrupt, or larger than
            ``max_pixels`` or ``max_side``.
    """
    if len(data) > max_bytes:
        raise PayloadTooLargeError(f"Image larger than {max_bytes} bytes")
    if not data:
        raise BadRequestError("Empty image")
    try:
        with _open(data, max_pixels, max_side or 1 << 30, formats) as image:
            image.load()
            rgb = ImageOps.exif_transpose(image).convert("RGB")
    except BadRequestError:
        raise
    except _DECODE_ERRORS as exc:
        raise BadRequestError("Image cannot be decoded", reason=f"image decode: {exc!r}") from exc
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def _open(data: bytes, max_pixels: int, max_side: int, formats: tuple[str, ...]) -> Image.Image:
    """Parse the header only and check the dimensions.

    Raises:
        BadRequestError: not an allowed format, or too many pixels.
    """
    image = Image.open(io.BytesIO(data), formats=[f for f in formats if f in ALLOWED_FORMATS])
    width, height = image.size
    if width < 1 or height < 1 or width * height > max_pixels or max(width, height) > max_side:
        image.close()
        raise BadRequestError(
            f"Image dimensions {width}x{height} exceed {max_pixels} pixels",
            reason=f"image {width}x{height} over the pixel limit",
        )
    frames = getattr(image, "n_frames", 1)
    if frames != 1:
        image.close()
        raise BadRequestError("Animated images are not accepted", reason=f"{frames} frames")
    return image


def encode_png(image: RGBImage) -> bytes:
    """Encode an RGB array as PNG (for tests, fixtures and debugging; never logged).

    Raises:
        BadRequestError: ``image`` is not an ``(h, w, 3)`` uint8 array.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise BadRequestError(reason=f"not an RGB uint8 image: {image.shape} {image.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
