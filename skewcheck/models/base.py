"""The model runner contract shared by every format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

ANY_DTYPE = "any"  # TensorSpec.dtype when the model does not declare one


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a model. ``shape`` includes the batch axis (``None`` = any)."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str  # numpy dtype name, e.g. "float32", "uint8"
    quantization: tuple[float, int] | None = None  # (scale, zero_point) for quantized TFLite

    @classmethod
    def unknown(cls, name: str = "input") -> TensorSpec:
        """A spec the model cannot tell us (a user callable): any shape, any dtype."""
        return cls(name=name, shape=(), dtype=ANY_DTYPE)

    @property
    def is_unknown(self) -> bool:
        return self.dtype == ANY_DTYPE and self.shape == ()

    def to_dict(self) -> dict[str, Any]:
        shape = None if self.is_unknown else list(self.shape)
        out: dict[str, Any] = {"name": self.name, "shape": shape, "dtype": self.dtype}
        if self.quantization is not None:
            out["quantization"] = {"scale": self.quantization[0], "zero_point": self.quantization[1]}
        return out


@dataclass
class ModelInfo:
    path: str
    format: str  # keras | h5 | savedmodel | tflite | callable | onnx | none
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)
    device: str = "cpu"  # cpu | gpu | unmanaged (a user callable picks its own device)
    notes: list[str] = field(default_factory=list)  # what loading had to say (e.g. TFLite's log)

    def to_dict(self) -> dict[str, Any]:
        first = self.inputs[0] if self.inputs else None
        out: dict[str, Any] = {
            "path": self.path,
            "format": self.format,
            "device": self.device,
            "input": {"shape": first.to_dict()["shape"], "dtype": first.dtype} if first else None,
            "inputs": [s.to_dict() for s in self.inputs],
            "outputs": [s.to_dict() for s in self.outputs],
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out


class ModelRunner(Protocol):
    info: ModelInfo

    def predict(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run one batch (leading axis = images) and return every output, batch axis first."""
        ...
