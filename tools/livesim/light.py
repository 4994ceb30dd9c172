"""The screen's light on the face, in linear RGB.

Model. A photo's pixels, decoded from sRGB to linear light, are taken as albedo x the room's
light. The page fills most of the screen with colour ``c(t)`` (linear RGB; white = 1), which adds
light in proportion to it::

    I(x, t) = photo_linear(x) * (ambient + k * s(x) * c(t - lag))     k = share / (1 - share)

``share`` is the screen's part of the face's light for a white screen (so ``k`` is screen /
room light). ``s(x)`` is how much of that each pixel receives, relative to a face point that
faces the screen:

- the head: its mask x the cosine of its surface normal toward the screen (the screen is
  beside the camera, so the normal's z component; :mod:`livesim.head`);
- neck and shoulders (:meth:`livesim.head.HeadModel.body_map`): ``BODY_LIGHT`` = 0.5-0.8 (they
  are 10-30 % farther from the screen than the face and tilted away from it: inverse square x
  cosine; an assumption on posture);
- everything else (the room behind): ``1/25`` to ``1/9``: a wall 3-5x farther from the screen
  than the face (inverse-square law; the distance ratio is an assumption for a person sitting
  40-60 cm from a laptop with a wall 1.5-2.5 m behind).

Where the share comes from. A laptop or monitor at full brightness shows 200-400 cd/m² of white
(typical panel specifications; phones reach 500-1000). A page colour filling an area ``A`` of
the screen at distance ``r`` from the face gives an illuminance ``E_s ≈ L·A/r²`` (a small
Lambertian source seen head-on): with L = 200-400 cd/m², A = 0.03-0.06 m² (most of a 13-16"
screen) and r = 0.35-0.6 m, E_s ≈ 20-200 lux. Indoor room light on a face is 100-500 lux
(EN 12464-1 asks 500 lux on office desks; homes are often 50-300; the vertical illuminance on a
face is lower than on a desk). So ``share = E_s / (E_s + E_room)`` spans about 5-60 %; the
hard cases — a bright office, a dim screen, a person sitting back — sit at 5-30 %, the range
the tests use (the default, 15 %, is a laptop at 300 cd/m² and 50 cm in a 300 lux room). A
saturated colour lights only its own channels: red at full brightness adds in R what white adds
there, and nothing in G and B.

Colour over time. The page's colour at time ``t`` reaches the frame stamped ``t + lag``
(display latency plus the camera pipeline); the sensor integrates it over the exposure, so a
frame that straddles a change sees a mix (:func:`screen_colour`). Before time zero and after the
schedule the page shows its own interface, taken as a neutral grey (``PAGE_GREY``, an
assumption).

Not modelled: skin's subsurface scattering (it softens and slightly reddens the reflected
light), specular highlights on skin and eyes, glasses, shadows the nose casts, the screen's
angular falloff and its colour gamut beyond sRGB, inter-reflections in the room.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from secureface.sessions.challenge import PALETTE, Challenge

F32 = NDArray[np.float32]

SHARE_RANGE = (0.05, 0.30)
BACKGROUND_FALLOFF = (1 / 25, 1 / 9)
BODY_LIGHT = (0.5, 0.8)
#: What the page shows outside the schedule (linear RGB): its interface, a neutral grey.
PAGE_GREY = (0.5, 0.5, 0.5)
#: Rec. 709 / sRGB luminance weights of linear R, G, B.
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def srgb_to_linear(values: NDArray[np.floating]) -> F32:
    """IEC 61966-2-1 decoding of 0..1 sRGB values."""
    v = np.asarray(values, dtype=np.float32)
    result: F32 = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)
    return result


def linear_to_srgb(values: NDArray[np.floating]) -> F32:
    """IEC 61966-2-1 encoding of 0..1 linear values (clipped)."""
    v = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
    result: F32 = np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055).astype(
        np.float32
    )
    return result


#: 8-bit sRGB → linear.
DECODE = srgb_to_linear(np.arange(256, dtype=np.float32) / 255.0)


def to_linear(image: NDArray[np.uint8]) -> F32:
    """An 8-bit sRGB image in linear light."""
    result: F32 = DECODE[image]
    return result


def palette_linear(palette: Mapping[str, tuple[int, int, int]] = PALETTE) -> dict[str, F32]:
    """The page's colours in linear RGB."""
    return {
        name: srgb_to_linear(np.asarray(rgb, np.float32) / 255.0) for name, rgb in palette.items()
    }


_PALETTE = palette_linear()


def colour_at(challenge: Challenge | None, t_ms: float) -> F32:
    """The colour (linear RGB) the page shows at ``t_ms`` (``PAGE_GREY`` outside the schedule,
    black when ``challenge`` is None: no screen light)."""
    if challenge is None:
        return np.zeros(3, dtype=np.float32)
    for name, start, end in challenge.light_intervals():
        if start <= t_ms < end:
            return _PALETTE[name]
    return np.asarray(PAGE_GREY, dtype=np.float32)


def screen_colour(
    challenge: Challenge | None, t_ms: float, *, lag_ms: float = 0.0, exposure_ms: float = 33.0
) -> F32:
    """The screen's colour as the frame stamped ``t_ms`` records it: the page's colour averaged
    over the exposure ``[t - lag - exposure, t - lag]`` (8 samples)."""
    end = t_ms - lag_ms
    samples = [colour_at(challenge, end - exposure_ms * (i + 0.5) / 8) for i in range(8)]
    result: F32 = np.mean(samples, axis=0).astype(np.float32)
    return result


@dataclass(frozen=True)
class Lighting:
    """How the screen and the room light one scene.

    Attributes:
        share: the screen's part of the face's light for a white screen (0..1).
        background: the room's screen light relative to a face point facing the screen.
        body: the neck's and shoulders' screen light, likewise.
        ambient: the room light's colour relative to the photo's (linear RGB, luminance 1).
    """

    share: float = 0.15
    background: float = 1 / 16
    body: float = 0.65
    ambient: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def ratio(self) -> float:
        """Screen light / room light on a face point facing a white screen."""
        return self.share / (1.0 - self.share)

    def ambient_rgb(self) -> F32:
        a = np.asarray(self.ambient, dtype=np.float32)
        result: F32 = a / float(a @ LUMA)
        return result


def reception(mask: F32, facing: F32, body: F32, lighting: Lighting) -> F32:
    """``s(x)``: each pixel's share of the screen light relative to a face point facing it."""
    rest = body * lighting.body + (1.0 - body) * lighting.background
    result: F32 = mask * facing + (1.0 - mask) * rest
    return result


def lit(linear: F32, received: F32, colour: F32, lighting: Lighting, level: float = 1.0) -> F32:
    """``linear`` under the room light (times ``level``, its slow drift) and the screen's
    ``colour`` received as ``received`` (see :func:`reception`)."""
    gain = lighting.ambient_rgb()[None, None, :] * level + (
        lighting.ratio * received[..., None] * colour[None, None, :]
    )
    result: F32 = linear * gain
    return result
