"""onnxruntime adapter: the only module of the package that imports onnxruntime.

Models arrive as bytes that were decrypted and hash-checked in memory, so a session is always
created from bytes, never from a path. Creating a session costs milliseconds (YuNet) to
about 0.2 s (SFace, 38.7 MB): callers keep one :class:`OnnxModel` per model and reuse it across
warm invocations.

Intra-op threads do not spin-wait by default. The verify function runs three sessions one after
the other on two vCPUs; with spinning on, the idle threads of one session keep both cores busy
while the next session runs, which measured here made YuNet + SFace + anti-spoof 5-6 times slower
(docs/MODELS.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnxruntime as ort

from secureface.errors import ConfigurationError, SecureFaceError
from secureface.face.inference import Tensor

#: Intra-op threads by default: a Lambda function with 3008 MB gets 2 vCPUs.
DEFAULT_THREADS = 2


class OnnxModel:
    """An onnxruntime CPU session over model bytes; implements ``InferenceModel``.

    Args:
        model: the serialized ONNX model.
        threads: intra-op thread count (>= 1).
        spinning: let idle intra-op threads spin-wait (lower latency only when this session
            alone has the CPU).

    Raises:
        ConfigurationError: ``threads`` is below 1, or the bytes are not a model this
            onnxruntime can load.
    """

    def __init__(
        self, model: bytes, *, threads: int = DEFAULT_THREADS, spinning: bool = False
    ) -> None:
        if threads < 1:
            raise ConfigurationError(reason=f"onnxruntime threads must be >= 1, got {threads}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if spinning else "0"
        )
        try:
            self._session = ort.InferenceSession(
                model, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped exceptions
            raise ConfigurationError(reason=f"onnxruntime cannot load the model: {exc}") from exc
        self._inputs = tuple(i.name for i in self._session.get_inputs())
        self._outputs = tuple(o.name for o in self._session.get_outputs())

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the model's inputs, in graph order."""
        return self._inputs

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the model's outputs, in graph order."""
        return self._outputs

    def run(self, inputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Run the model once on named float32 tensors.

        Raises:
            SecureFaceError: onnxruntime rejected the inputs or failed while running.
        """
        feed = {
            name: np.ascontiguousarray(value, dtype=np.float32) for name, value in inputs.items()
        }
        try:
            values = self._session.run(None, feed)
        except Exception as exc:  # onnxruntime raises its own untyped exceptions
            raise SecureFaceError(reason=f"onnxruntime run failed: {exc}") from exc
        return {
            name: np.asarray(value, dtype=np.float32)
            for name, value in zip(self._outputs, values, strict=True)
        }
