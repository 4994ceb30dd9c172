"""Server-side verification: per-frame analysis, the liveness rules and face matching.

Pure code (numpy, Pillow and :mod:`secureface.face`); models arrive through the
:class:`~secureface.face.InferenceModel` port. A verify request reads::

    engine = FaceEngine(detector, embedder, antispoof, landmarks=mesh)
    verdict = assess_burst(engine, challenge, frames, times_ms)   # burst.py
    if verdict.passed:
        ...  # compare verdict.probe with the enrolled template

- :mod:`secureface.verify.request`: the burst container and its limits.
- :mod:`secureface.verify.analysis`: :class:`FaceEngine`, :class:`FrameScan`,
  :class:`FrameAnalysis`, enrollment templates and their quality errors.
- :mod:`secureface.verify.liveness`: :class:`Thresholds`, the two stages (:func:`check_burst`,
  :func:`check_frames`) over :mod:`.light`, :mod:`.motion` and :mod:`.depth`.
- :mod:`secureface.verify.burst`: :func:`assess_burst`, bytes to verdict with the models.
- :mod:`secureface.verify.memory`: accepted bursts remembered, replays refused.
- :mod:`secureface.verify.match`: :func:`match_images` (two pictures, same person or not).

Rules, thresholds and the measurements behind them: docs/LIVENESS.md.
"""
