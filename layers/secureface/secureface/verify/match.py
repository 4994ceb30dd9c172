"""One-to-one comparison of two pictures: the same person or not.

Each picture must hold exactly one face; its aligned face is embedded with SFace and the two
embeddings are compared by cosine similarity against a threshold (the service uses
``Thresholds.match_min_cosine``, 0.363: OpenCV's SFace threshold, docs/LIVENESS.md).
"""

from __future__ import annotations

from secureface.face import cosine_similarity
from secureface.face.inference import RGBImage
from secureface.verify.analysis import FaceEngine, FaceQualityError


def match_images(
    engine: FaceEngine, first: RGBImage, second: RGBImage, threshold: float
) -> dict[str, object]:
    """Compare the faces in two pictures.

    Args:
        engine: the models.
        first: an RGB picture with one face.
        second: another RGB picture with one face.
        threshold: least cosine similarity for "same person".

    Returns:
        ``{"same_person": bool, "similarity": float rounded to 4 places, "threshold": float}``.

    Raises:
        FaceQualityError: a picture holds no face (``quality == "no_face"``) or several
            (``"multiple_faces"``); the message names the picture (``first`` or ``second``).
        BadRequestError: a picture is not an RGB uint8 array.
        SecureFaceError: a model failed.
    """
    embeddings = []
    for name, image in (("first", first), ("second", second)):
        analysis = engine.analyze(image)
        if analysis.face_count > 1:
            count = analysis.face_count
            raise FaceQualityError("multiple_faces", f"The {name} image has {count} faces")
        if analysis.embedding is None:
            raise FaceQualityError("no_face", f"No face found in the {name} image")
        embeddings.append(analysis.embedding)
    similarity = cosine_similarity(embeddings[0], embeddings[1])
    return {
        "same_person": similarity >= threshold,
        "similarity": round(similarity, 4),
        "threshold": threshold,
    }
