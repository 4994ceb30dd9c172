"""The screen's light on the face and what a webcam makes of it. Linear light throughout.

Light. The photo's pixels are taken as albedo x room light. The screen adds light of its
colour ``c`` (linear RGB, white = 1): ``I = photo_linear * (1 + k * s(x) * c)``, with
``k = share / (1 - share)``, where ``share`` is the screen's part of the face's light for a white
screen. A laptop or phone screen at full brightness gives 200-500 cd/m²; at 30-50 cm it puts
roughly 20-150 lux on a face, against 100-500 lux of indoor room light (EN 12464-1 office
lighting is 500 lux, living rooms 50-200): a share of about 5-30 %, the range the tests span.
``s(x)`` is the head mask times the surface's cosine toward the screen (beside the camera); the
background, 3-5x farther from the screen than the face, gets ``k / 9`` to ``k / 25`` (inverse
square).

Camera. Auto-exposure scales the image toward a target mean with a time constant of 0.3-1 s;
auto-white-balance pulls the channel means toward grey with a time constant of ~2 s, partially
(webcam AWB adapts over seconds — an assumption, stated in docs/LIVENESS.md); shot noise and
read noise; motion blur proportional to the head's angular speed (a 33 ms exposure); sRGB
encoding and a JPEG at quality 75 (what ``canvas.toBlob("image/jpeg", 0.75)`` gives). The
exposure integrates the screen's colour over the 33 ms before the frame's time, after a
display + camera lag of 0-1 frame.

Not modelled: skin's subsurface scattering and specular highlights, glasses, rolling shutter,
a camera's own tone curve and colour matrix, flicker of room lights.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from secureface.sessions.challenge import PALETTE, Challenge

F32 = NDArray[np.float32]
EXPOSURE_MS = 33.0


def srgb_to_linear(values: NDArray[np.floating]) -> F32:
    v = np.asarray(values, dtype=np.float32)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(values: NDArray[np.floating]) -> F32:
    v = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055).astype(np.float32)


_LUT = srgb_to_linear(np.arange(256) / 255.0)


def colour_at(challenge: Challenge | None, t_ms: float) -> F32:
    """The screen colour (linear RGB) averaged over an exposure ending at ``t_ms``."""
    if challenge is None or not challenge.light:
        return np.zeros(3, dtype=np.float32)
    total = np.zeros(3, dtype=np.float32)
    for step in np.linspace(t_ms - EXPOSURE_MS, t_ms, 4):
        for name, start, end in challenge.light_intervals():
            if start <= step < end:
                total += srgb_to_linear(np.asarray(PALETTE[name], dtype=np.float32) / 255)
    return total / 4


@dataclass
class Webcam:
    """A webcam's automatic exposure and white balance, and its noise.

    Attributes:
        rng: randomness (noise, parameters).
        exposure_tau_ms: auto-exposure time constant.
        awb_tau_ms: auto-white-balance time constant.
        awb_strength: how much of the cast AWB removes at equilibrium (0..1).
        read_noise: sensor read noise (linear, sigma).
        shot_noise: shot noise scale (sigma = sqrt(I) * shot_noise).
        quality: JPEG quality.
    """

    rng: np.random.Generator
    exposure_tau_ms: float = 600.0
    awb_tau_ms: float = 2000.0
    awb_strength: float = 0.5
    read_noise: float = 0.002
    shot_noise: float = 0.01
    quality: int = 75
    target: float = 0.18
    _gain: float = field(default=0.0, init=False)
    _balance: F32 = field(default_factory=lambda: np.ones(3, dtype=np.float32), init=False)
    _last_ms: float | None = field(default=None, init=False)

    def capture(self, linear: F32, t_ms: float) -> bytes:
        """Expose, balance, add noise, encode: the JPEG bytes of one frame."""
        dt = 33.0 if self._last_ms is None else max(t_ms - self._last_ms, 1.0)
        self._last_ms = t_ms
        mean = float(linear.mean()) or 1e-3
        wanted = self.target / mean
        if self._gain == 0.0:
            self._gain = wanted
        self._gain += (wanted - self._gain) * (1 - np.exp(-dt / self.exposure_tau_ms))
        channel = linear.reshape(-1, 3).mean(axis=0) + 1e-4
        grey = channel.mean() / channel
        wanted_balance = 1 + self.awb_strength * (grey - 1)
        self._balance += (wanted_balance - self._balance) * (1 - np.exp(-dt / self.awb_tau_ms))
        exposed = linear * (self._gain * self._balance)
        noise = self.rng.normal(0.0, 1.0, exposed.shape).astype(np.float32)
        exposed = exposed + noise * (
            self.read_noise + self.shot_noise * np.sqrt(np.clip(exposed, 0, None))
        )
        pixels = np.clip(np.rint(linear_to_srgb(exposed) * 255), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=self.quality)
        return buffer.getvalue()


def to_linear(image: NDArray[np.uint8]) -> F32:
    return _LUT[image]


def lit(linear: F32, mask: F32, facing: F32, colour: F32, share: float, background: float) -> F32:
    """``linear`` lit by the screen: face ``share`` of the light, background ``background``x it."""
    k = share / (1.0 - share)
    strength = k * (mask * facing + (1.0 - mask) * background)
    return linear * (1.0 + strength[..., None] * colour[None, None, :])
