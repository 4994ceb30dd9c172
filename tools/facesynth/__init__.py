"""facesynth: synthetic face data made from real package photos (test tooling, never deployed;
nothing downloaded at run time). Shared by the tests and the benchmarks, so it lives here and
imports nothing from ``tests/``. The per-step sequences are the earlier liveness model's
(a head turn rendered from one photo); ``livesim`` makes the bursts today's checks decide on.

- :mod:`facesynth.people`: real photos of different people (scikit-image astronaut, the
  face-api demo crops in tests/data/faces).
- :mod:`facesynth.faces`: rendering: a 2.5-D head turn from one photo (parallax), a flat photo
  tilted by a homography (no parallax), capture jitter, :func:`to_jpeg`.
- :mod:`facesynth.sequences`: one frame per challenge step: :func:`genuine_sequence`, and the
  attacks :func:`repeated_frame_sequence`, :func:`tilted_photo_sequence`,
  :func:`swapped_person_sequence`; a different person performing the challenge is
  ``genuine_sequence(other_photo, challenge)``.
- :mod:`facesynth.models`: the published ONNX models and a ``FaceEngine``, loaded once.

Direction convention: ``turn_left`` = the person turns toward their OWN left; in the unmirrored
image the nose moves right and the yaw cue grows.

Example::

    from facesynth import genuine_sequence, people, to_jpeg
    frames = genuine_sequence(people.astronaut(), ("center", "turn_left", "turn_right"))
    payload = [to_jpeg(frame) for frame in frames]
"""

from facesynth import people
from facesynth.faces import from_jpeg, jitter, rotate_head, tilt_photo, to_jpeg
from facesynth.sequences import (
    genuine_sequence,
    repeated_frame_sequence,
    swapped_person_sequence,
    tilted_photo_sequence,
)

__all__ = [
    "from_jpeg",
    "genuine_sequence",
    "jitter",
    "people",
    "repeated_frame_sequence",
    "rotate_head",
    "swapped_person_sequence",
    "tilt_photo",
    "tilted_photo_sequence",
    "to_jpeg",
]
