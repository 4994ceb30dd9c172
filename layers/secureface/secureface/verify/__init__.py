"""Server-side verification: per-frame analysis, the liveness rules and face matching.

Pure code (numpy, Pillow and :mod:`secureface.face`); models arrive through the
:class:`~secureface.face.InferenceModel` port. A verify request reads::

    engine = FaceEngine(detector, embedder, antispoof)
    frames = [engine.analyze(decode_image(data)) for data in frame_bytes]
    result = check_liveness(challenge, frames)            # liveness.py
    if result.passed:
        probe = frames[result.match_frame].embedding      # compare with the enrolled template

- :mod:`secureface.verify.analysis`: :class:`FaceEngine`, :class:`FrameAnalysis`, enrollment
  templates and their quality errors.
- :mod:`secureface.verify.liveness`: :class:`Thresholds`, :class:`LivenessResult`,
  :func:`check_liveness`.
- :mod:`secureface.verify.match`: :func:`match_images` (two pictures, same person or not).

Rules, thresholds and the measurements behind them: docs/LIVENESS.md.
"""
