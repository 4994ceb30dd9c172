"""The face pipeline on real pictures: decoding untrusted bytes, detection, alignment, pose.

Pictures: scikit-image ``astronaut()`` and ``rocket()`` (public domain), and crops of the MIT
``@vladmandic/face-api`` demo photos in tests/data/faces (README there).
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageFile

from secureface.adapters.onnx_runtime import OnnxModel
from secureface.errors import BadRequestError, PayloadTooLargeError
from secureface.face import SFACE_TEMPLATE, align_face, decode_image, detect_faces, pose_cues
from secureface.face.image import encode_png

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT / "tests" / "data" / "faces"


@pytest.fixture(scope="module")
def detector() -> OnnxModel:
    return OnnxModel((ROOT / "s3-uploads" / "yunet-2023mar.onnx").read_bytes())


def jpeg(image: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=90, **options)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` RGB, with one tiny IDAT chunk."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# ----------------------------------------------------------------- decoding


def test_decode_returns_the_encoded_rgb_pixels() -> None:
    image = np.ascontiguousarray(skimage.data.astronaut()[:100, :150])
    decoded = decode_image(encode_png(image))
    assert decoded.dtype == np.uint8 and decoded.shape == (100, 150, 3)
    assert np.array_equal(decoded, image)


def test_decode_expands_greyscale_and_drops_alpha() -> None:
    grey = Image.fromarray(np.full((8, 9), 77, np.uint8))
    rgba = Image.fromarray(np.full((8, 9, 4), 200, np.uint8))
    for picture in (grey, rgba):
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        decoded = decode_image(buffer.getvalue())
        assert decoded.shape == (8, 9, 3)
        assert int(decoded[0, 0, 0]) == (77 if picture is grey else 200)


def test_decode_applies_the_exif_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    data = jpeg(np.zeros((40, 100, 3), np.uint8), exif=exif)
    assert decode_image(data).shape == (100, 40, 3)


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage bytes that are no image", b"\xff\xd8\xff\xe0" + b"\x00" * 50],
    ids=["empty", "garbage", "jpeg-magic-then-zeros"],
)
def test_decode_refuses_bytes_that_are_no_image(data: bytes) -> None:
    with pytest.raises(BadRequestError):
        decode_image(data)


def test_decode_refuses_a_truncated_jpeg() -> None:
    data = jpeg(np.ascontiguousarray(skimage.data.astronaut()))
    with pytest.raises(BadRequestError):
        decode_image(data[: len(data) // 2])


def test_decode_refuses_formats_a_browser_does_not_send() -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(buffer, format="BMP")
    with pytest.raises(BadRequestError):
        decode_image(buffer.getvalue())


def test_decode_refuses_a_huge_png_before_decoding_its_pixels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[object] = []
    original = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:
        loads.append(self)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    data = png_header_only(100_000, 100_000)  # 10^10 pixels in 100 bytes
    assert len(data) < 200
    with pytest.raises(BadRequestError):
        decode_image(data)
    with pytest.raises(BadRequestError):
        decode_image(png_header_only(3000, 2000), max_pixels=1920 * 1080)
    assert loads == []


def test_decode_applies_its_own_pixel_limit() -> None:
    data = encode_png(np.zeros((100, 100, 3), np.uint8))
    assert decode_image(data, max_pixels=10_000).shape == (100, 100, 3)
    with pytest.raises(BadRequestError):
        decode_image(data, max_pixels=9_999)


def test_decode_refuses_too_many_bytes_before_parsing() -> None:
    with pytest.raises(PayloadTooLargeError):
        decode_image(b"\x89PNG" + b"\x00" * 2000, max_bytes=1000)


# ----------------------------------------------------------------- detection


def test_picture_without_a_face_has_no_face(detector: OnnxModel) -> None:
    assert detect_faces(detector, np.ascontiguousarray(skimage.data.rocket())) == []


def test_group_photo_has_every_face(detector: OnnxModel) -> None:
    faces = detect_faces(detector, decode_image((FACES / "group.jpg").read_bytes()))
    assert len(faces) == 5  # five women, all facing the camera
    centres = [(f.box[0] + f.box[2] / 2, f.box[1] + f.box[3] / 2) for f in faces]
    assert min(math.dist(a, b) for i, a in enumerate(centres) for b in centres[i + 1 :]) > 80
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)


def test_tiny_picture_face_is_found_and_mapped_back(detector: OnnxModel) -> None:
    big = skimage.data.astronaut()
    small = np.asarray(Image.fromarray(big).resize((64, 64), Image.Resampling.LANCZOS))
    (face,) = detect_faces(detector, np.ascontiguousarray(small))  # face about 11 px wide
    x, y, w, h = face.box
    # The face centre of the 512 px original (about 224, 122), divided by 8.
    assert math.dist((x + w / 2, y + h / 2), (28.0, 15.2)) < 3.0
    assert 6 < w < 20


# ----------------------------------------------------------------- alignment


def test_aligned_landmarks_land_on_the_sface_template() -> None:
    """Five images with one bright blob each at a landmark; after alignment every blob's
    centroid must sit on its template point (within 1 px)."""
    angle, scale, shift = math.radians(17.0), 2.3, np.array([61.0, 23.0])
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    landmarks = SFACE_TEMPLATE @ (scale * rotation).T + shift
    ys, xs = np.mgrid[0:360, 0:400]
    for index, (lx, ly) in enumerate(landmarks):
        blob = np.exp(-((xs - lx) ** 2 + (ys - ly) ** 2) / (2 * 6.0**2)) * 255
        image = np.repeat(blob.astype(np.uint8)[:, :, np.newaxis], 3, axis=2)
        aligned = align_face(image, [(float(x), float(y)) for x, y in landmarks])
        weight = aligned[:, :, 0].astype(np.float64)
        grid_y, grid_x = np.mgrid[0:112, 0:112]
        centroid = ((grid_x * weight).sum() / weight.sum(), (grid_y * weight).sum() / weight.sum())
        assert math.dist(centroid, tuple(SFACE_TEMPLATE[index])) < 1.0


def test_aligned_face_of_a_real_photo_is_detected_at_the_template(detector: OnnxModel) -> None:
    astronaut = np.ascontiguousarray(skimage.data.astronaut())
    (face,) = detect_faces(detector, astronaut)
    aligned = align_face(astronaut, face.landmarks, size=224)  # 2x template, room for YuNet
    (again,) = detect_faces(detector, aligned)
    found = np.array(again.landmarks) / 2
    distances = np.linalg.norm(found - SFACE_TEMPLATE, axis=1)
    # A face does not fit five points exactly, and YuNet is less precise on a face that fills
    # the frame: measured 4.4 px on average (of 112); a wrong warp is off by tens of pixels.
    assert distances.mean() < 6.0 and distances.max() < 9.0


# ----------------------------------------------------------------- pose


def test_yaw_sign_flips_on_a_mirrored_face(detector: OnnxModel) -> None:
    image = decode_image((FACES / "turned.jpg").read_bytes())
    (face,) = detect_faces(detector, image)
    (mirrored,) = detect_faces(detector, np.ascontiguousarray(image[:, ::-1]))
    # She turned toward her own right: her nose is left of her eyes' midpoint in the picture.
    assert pose_cues(face.landmarks).yaw < -0.2
    assert pose_cues(mirrored.landmarks).yaw > 0.2
