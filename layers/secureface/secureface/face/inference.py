"""The inference port and the array types shared by the face pipeline.

The pipeline never imports an inference engine: it hands named float32 tensors to an
:class:`InferenceModel` and reads named tensors back. :mod:`secureface.adapters.onnx_runtime`
implements the port with onnxruntime; tests may pass any object with the same ``run`` method.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeAlias

import numpy as np
from numpy.typing import NDArray

from secureface.errors import SecureFaceError

#: An ``(height, width, 3)`` uint8 RGB image.
RGBImage: TypeAlias = NDArray[np.uint8]
#: A float32 tensor fed to or read from a model.
Tensor: TypeAlias = NDArray[np.float32]
#: An ``(x, y)`` point in image pixel coordinates (pixel centres at integer positions).
Point: TypeAlias = tuple[float, float]


class InferenceModel(Protocol):
    """A loaded model that maps named input tensors to named output tensors."""

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the model's inputs, in graph order."""
        ...

    def run(self, inputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Run the model once.

        Args:
            inputs: one float32 tensor per input name.

        Returns:
            Every output of the model, by name.

        Raises:
            SecureFaceError: the engine failed (an adapter translates its own errors).
        """
        ...


def run_single(model: InferenceModel, tensor: Tensor) -> dict[str, Tensor]:
    """Run a one-input model on ``tensor``.

    Raises:
        SecureFaceError: the model does not have exactly one input, or the engine failed.
    """
    names = model.input_names
    if len(names) != 1:
        raise SecureFaceError(reason=f"expected a one-input model, got inputs {names}")
    return model.run({names[0]: tensor})


def output(outputs: Mapping[str, Tensor], name: str) -> Tensor:
    """The output ``name`` of a model run.

    Raises:
        SecureFaceError: the model did not produce that output (wrong model loaded).
    """
    try:
        return outputs[name]
    except KeyError as exc:
        raise SecureFaceError(reason=f"model output {name!r} missing") from exc
