"""Face pipeline primitives: decode, detect, align, embed, anti-spoof, pose cues and face mesh.

Pure code: numpy and Pillow only. Models are reached through the
:class:`~secureface.face.inference.InferenceModel` port, which
:class:`secureface.adapters.onnx_runtime.OnnxModel` implements with onnxruntime.

A verify step reads, in four lines::

    image = decode_image(frame_bytes)
    face = detect_faces(detector, image)[0]
    probe = embed_face(embedder, align_face(image, face.landmarks))
    similarity = cosine_similarity(probe, enrolled)
"""

from secureface.face.align import SFACE_TEMPLATE, align_face, estimate_similarity
from secureface.face.antispoof import antispoof_input, real_score
from secureface.face.detector import Face, decode_detections, detect_faces, letterbox
from secureface.face.embedder import cosine_similarity, embed_face, sface_input
from secureface.face.image import decode_image
from secureface.face.inference import InferenceModel
from secureface.face.mesh import FaceMesh, MeshRegion, detect_mesh, face_mesh
from secureface.face.pose import PoseCues, pose_cues

__all__ = [
    "SFACE_TEMPLATE",
    "Face",
    "FaceMesh",
    "InferenceModel",
    "MeshRegion",
    "PoseCues",
    "align_face",
    "antispoof_input",
    "cosine_similarity",
    "decode_detections",
    "decode_image",
    "detect_faces",
    "detect_mesh",
    "embed_face",
    "estimate_similarity",
    "face_mesh",
    "letterbox",
    "pose_cues",
    "real_score",
    "sface_input",
]
