"""What a webcam and the page make of the light: blur, exposure, white balance, noise, JPEG.

The pipeline, per frame, in linear light until the sRGB encoding:

1. **Motion blur.** The exposure (``exposure_ms``, 33 ms: indoors a webcam exposes for about
   the whole 1/30 s frame; an assumption) smears the moving head along its image velocity;
   the room behind stays sharp (:func:`motion_blur`).
2. **Auto-exposure.** A scalar gain moves toward ``target / metered`` with a time constant of
   300-1000 ms (``exposure_tau_ms``); metering is centre-weighted (half the frame mean, half a
   Gaussian around the centre: the face). UVC webcams converge in a few tenths of a second to a
   second (their AE loops adjust every frame or two with damping); the range is an assumption.
   The target is mid-grey (18 % linear, sRGB ~118).
3. **Auto white balance.** Per-channel gains move toward a grey-world balance of the frame, but
   only partly (``awb_strength`` 0-0.5 of the way) and slowly (``awb_tau_ms`` 1.5-3 s). Webcam
   AWB settles over seconds and most pipelines damp it to avoid flicker; the values are an
   assumption. It cannot follow the 350-700 ms colours, but it drifts with their average.
4. **Sensor noise.** Shot noise (``full_scale_electrons``: 1500-5000 electrons at full scale
   after the analogue gain of an indoor scene; small-pixel sensors hold 4000-10000 at base
   gain) plus read noise (``read_noise``, 0.1-0.3 % of full scale), per channel.
5. **sRGB encoding** and 8-bit quantisation, then **JPEG** at quality 70-80 with 4:2:0 chroma
   subsampling: what ``canvas.toBlob("image/jpeg", 0.7..0.8)`` produces in Chromium
   (libjpeg-turbo).

Frame times (:func:`frame_times`): the page grabs a frame every ``1000 / fps`` ms with ±5 ms of
jitter (timer and event-loop delay) and drops about 3 % of them (a busy main thread); each
carries its time in ms from the first colour.

Not modelled: the camera's own tone curve and colour matrix (real pipelines are not linear),
denoising and sharpening, rolling shutter, lens vignetting and distortion, flicker of mains-
powered room lights, the screen's refresh, and webcams that lock exposure.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from livesim.light import LUMA, linear_to_srgb

F32 = NDArray[np.float32]
#: linear (0..1, 4096 steps) → 8-bit sRGB.
_ENCODE_STEPS = 4096
_ENCODE = np.clip(
    np.rint(linear_to_srgb(np.arange(_ENCODE_STEPS, dtype=np.float32) / (_ENCODE_STEPS - 1)) * 255),
    0,
    255,
).astype(np.uint8)


def encode_srgb(linear: F32) -> NDArray[np.uint8]:
    """Linear 0..1 → 8-bit sRGB (clipped)."""
    index = np.clip(linear * (_ENCODE_STEPS - 1) + 0.5, 0, _ENCODE_STEPS - 1).astype(np.intp)
    result: NDArray[np.uint8] = _ENCODE[index]
    return result


def to_jpeg(image: NDArray[np.uint8], quality: int = 75) -> bytes:
    """Baseline JPEG, 4:2:0, as a browser canvas encodes it."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality, subsampling="4:2:0")
    return buffer.getvalue()


def from_jpeg(data: bytes) -> NDArray[np.uint8]:
    """JPEG bytes → RGB array."""
    with Image.open(io.BytesIO(data)) as picture:
        return np.ascontiguousarray(np.asarray(picture.convert("RGB"), dtype=np.uint8))


def frame_times(
    capture_ms: int, fps: float, rng: np.random.Generator, *, drop: float = 0.03
) -> list[int]:
    """When the page grabs frames: every ``1000 / fps`` ms from a random start in the first
    half period, ±5 ms of jitter, about ``drop`` of them dropped; strictly increasing ints."""
    period = 1000.0 / fps
    times: list[int] = []
    t = float(rng.uniform(0, period / 2))
    while t < capture_ms:
        jittered = round(t + float(rng.uniform(-5.0, 5.0)))
        dropped = bool(times) and rng.random() < drop
        if not dropped and 0 <= jittered < capture_ms:
            times.append(max(jittered, times[-1] + 1) if times else jittered)
        t += period
    return times


def motion_blur(linear: F32, mask: F32, velocity: tuple[float, float], exposure_ms: float) -> F32:
    """Blur the moving part (``mask``) along its image ``velocity`` (px/s) over the exposure:
    the mean of copies shifted along the path (whole-pixel steps), blended in by the mask."""
    vx, vy = velocity
    length = math.hypot(vx, vy) * exposure_ms / 1000.0
    if length < 0.75:
        return linear
    rows = np.flatnonzero(mask.max(axis=1) > 0.01)
    cols = np.flatnonzero(mask.max(axis=0) > 0.01)
    if not len(rows) or not len(cols):
        return linear
    taps = min(math.ceil(length) + 1, 12)
    steps = np.linspace(-0.5, 0.5, taps)
    offsets = sorted(
        {(round(s * vy * exposure_ms / 1000), round(s * vx * exposure_ms / 1000)) for s in steps}
    )
    pad = math.ceil(length / 2) + 1
    height, width = linear.shape[:2]
    y0, y1 = max(rows[0] - pad, 0), min(rows[-1] + pad + 1, height)
    x0, x1 = max(cols[0] - pad, 0), min(cols[-1] + pad + 1, width)
    source = np.pad(linear[y0:y1, x0:x1], ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    h, w = y1 - y0, x1 - x0
    total = np.zeros((h, w, 3), dtype=np.float32)
    for oy, ox in offsets:
        total += source[pad + oy : pad + oy + h, pad + ox : pad + ox + w]
    blurred = total / len(offsets)
    crop = linear[y0:y1, x0:x1]
    alpha = mask[y0:y1, x0:x1, None]
    out = linear.copy()
    out[y0:y1, x0:x1] = crop + alpha * (blurred - crop)
    return out


@dataclass
class Webcam:
    """A webcam's automatic exposure and white balance, its noise, and the page's JPEG.

    Attributes (module docstring for the sources):
        rng: randomness (the noise).
        exposure_tau_ms: auto-exposure time constant.
        awb_tau_ms: auto-white-balance time constant.
        awb_strength: how much of the frame's colour cast AWB removes when settled (0..1).
        full_scale_electrons: electrons at full scale (shot noise).
        read_noise: read noise, fraction of full scale.
        exposure_ms: exposure time.
        quality: JPEG quality (the page's ``toBlob`` quality x 100).
        target: mean linear level auto-exposure aims at.
    """

    rng: np.random.Generator
    exposure_tau_ms: float = 600.0
    awb_tau_ms: float = 2000.0
    awb_strength: float = 0.3
    full_scale_electrons: float = 3000.0
    read_noise: float = 0.002
    exposure_ms: float = 33.0
    quality: int = 75
    target: float = 0.18
    _gain: float = field(default=0.0, init=False)
    _balance: F32 = field(default_factory=lambda: np.ones(3, np.float32), init=False)
    _last_ms: float | None = field(default=None, init=False)
    _weights: F32 | None = field(default=None, init=False, repr=False)
    _bank: F32 | None = field(default=None, init=False, repr=False)

    @classmethod
    def random(cls, rng: np.random.Generator) -> Webcam:
        """A webcam with its parameters drawn from the documented ranges."""
        return cls(
            rng=rng,
            exposure_tau_ms=float(rng.uniform(300, 1000)),
            awb_tau_ms=float(rng.uniform(1500, 3000)),
            awb_strength=float(rng.uniform(0.0, 0.5)),
            full_scale_electrons=float(rng.uniform(1500, 5000)),
            read_noise=float(rng.uniform(0.001, 0.003)),
            quality=int(rng.integers(70, 81)),
        )

    def _metering(self, shape: tuple[int, ...]) -> F32:
        if self._weights is None or self._weights.shape != shape[:2]:
            height, width = shape[:2]
            y, x = np.mgrid[0:height, 0:width].astype(np.float32)
            centre = np.exp(
                -0.5
                * (
                    ((x - width / 2) / (0.2 * width)) ** 2
                    + ((y - height / 2) / (0.25 * height)) ** 2
                )
            )
            weights = 0.5 / centre.size + 0.5 * centre / centre.sum()
            self._weights = weights.astype(np.float32)
        return self._weights

    def _noise(self, shape: tuple[int, ...]) -> F32:
        """Unit Gaussian noise for one frame: a random window of a bank four frames large,
        drawn once per camera (cheaper than fresh draws; frames still differ)."""
        height, width = shape[:2]
        if (
            self._bank is None
            or self._bank.shape[0] < 2 * height
            or self._bank.shape[1] < 2 * width
        ):
            self._bank = self.rng.standard_normal((2 * height, 2 * width, 3), dtype=np.float32)
        y, x = (int(v) for v in self.rng.integers(0, (height, width)))
        window: F32 = self._bank[y : y + height, x : x + width]
        return window

    def capture(self, linear: F32, t_ms: float) -> bytes:
        """Expose, balance, add noise, encode: one frame's JPEG bytes."""
        dt = 100.0 if self._last_ms is None else max(t_ms - self._last_ms, 1.0)
        self._last_ms = t_ms
        weights = self._metering(linear.shape)
        channel = np.einsum("hw,hwc->c", weights, linear) + 1e-5
        metered = float(channel @ LUMA)
        wanted_gain = self.target / metered
        wanted_balance = 1.0 + self.awb_strength * (channel.mean() / channel - 1.0)
        if self._gain == 0.0:  # the camera has been running: settled on the first frame
            self._gain, self._balance = wanted_gain, wanted_balance.astype(np.float32)
        else:
            self._gain += (wanted_gain - self._gain) * (1 - math.exp(-dt / self.exposure_tau_ms))
            self._balance += (wanted_balance - self._balance) * (
                1 - math.exp(-dt / self.awb_tau_ms)
            )
        exposed = linear * (self._gain * self._balance)[None, None, :]
        sigma = np.sqrt(
            np.clip(exposed, 0.0, None) / self.full_scale_electrons + self.read_noise**2
        )
        noisy = exposed + sigma * self._noise(exposed.shape)
        return to_jpeg(encode_srgb(noisy), self.quality)
