"""Synthetic liveness test data made from real package photos (nothing downloaded at run time).

- :mod:`tests.synth.people`: real photos of different people (scikit-image astronaut, the
  face-api demo crops in tests/data/faces).
- :mod:`tests.synth.faces`: rendering: a 2.5-D head turn from one photo (parallax), a flat photo
  tilted by a homography (no parallax), capture jitter, :func:`to_jpeg`.
- :mod:`tests.synth.sequences`: one frame per challenge step: :func:`genuine_sequence`, and the
  attacks :func:`repeated_frame_sequence`, :func:`tilted_photo_sequence`,
  :func:`swapped_person_sequence`; a different person performing the challenge is
  ``genuine_sequence(other_photo, challenge)``.
- :mod:`tests.synth.models`: the published ONNX models and a ``FaceEngine``, loaded once.

Direction convention: ``turn_left`` = the person turns toward their OWN left; in the unmirrored
image the nose moves right and the yaw cue grows.

Example::

    from tests.synth import genuine_sequence, people, to_jpeg
    frames = genuine_sequence(people.astronaut(), ("center", "turn_left", "turn_right"))
    payload = [to_jpeg(frame) for frame in frames]
"""

from tests.synth import people
from tests.synth.faces import from_jpeg, jitter, rotate_head, tilt_photo, to_jpeg
from tests.synth.sequences import (
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
