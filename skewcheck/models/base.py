"""The model runner contract shared by every format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a model. ``shape`` includes the batch axis (``None`` = any)."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str  # numpy dtype name, e.g. "float32", "uint8"
    quantization: tuple[float, int] | None = None  # (scale, zero_point) for quantized TFLite

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}
        if self.quantization is not None:
            out["quantization"] = {"scale": self.quantization[0], "zero_point": self.quantization[1]}
        return out


@dataclass
class ModelInfo:
    path: str
    format: str  # keras | h5 | savedmodel | tflite | callable | onnx | none
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)
    device: str = "cpu"

    def to_dict(self) -> dict[str, Any]:
        first = self.inputs[0] if self.inputs else None
        return {
            "path": self.path,
            "format": self.format,
            "device": self.device,
            "input": {"shape": list(first.shape), "dtype": first.dtype} if first else None,
            "inputs": [s.to_dict() for s in self.inputs],
            "outputs": [s.to_dict() for s in self.outputs],
        }


class ModelRunner(Protocol):
    info: ModelInfo

    def predict(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run one batch (leading axis = images) and return every output, batch axis first."""
        ...
