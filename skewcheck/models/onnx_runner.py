"""ONNX models through onnxruntime (optional extra: ``pip install 'skewcheck[onnx]'``).

Same contract as the other runners: one image input, ``info`` with the signature (symbolic axes
become ``None``), ``predict(batch)`` returning every output in the graph's order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from skewcheck.errors import UsageError
from skewcheck.models._common import (
    DEFAULT_CHUNK,
    check_device_name,
    one_line,
)
from skewcheck.models.base import ModelInfo, TensorSpec
from skewcheck.models.batched import BatchedRunner

EXTRA_HINT = "ONNX models need the optional extra: pip install 'skewcheck[onnx]'"

# onnxruntime's type strings → numpy dtype names
_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
    "tensor(uint16)": "uint16",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(bool)": "bool",
}


def import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise UsageError(EXTRA_HINT) from None
    return onnxruntime


class OnnxRunner(BatchedRunner):
    def __init__(self, path: str | Path, *, device: str = "auto", chunk_size: int = DEFAULT_CHUNK) -> None:
        path = Path(path)
        check_device_name(device)
        if not path.is_file():
            raise UsageError(f"ONNX model not found: {path}")
        ort = import_onnxruntime()
        available = ort.get_available_providers()
        gpu = "CUDAExecutionProvider" in available
        if device == "gpu" and not gpu:
            raise UsageError("--device gpu: onnxruntime has no CUDAExecutionProvider here; use --device cpu or auto")
        providers = (
            ["CUDAExecutionProvider", "CPUExecutionProvider"] if gpu and device != "cpu" else ["CPUExecutionProvider"]
        )
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only
        try:
            self._session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own Fail / InvalidGraph / InvalidProtobuf
            raise UsageError(f"cannot load ONNX model {path}: {one_line(exc)}") from None
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise UsageError(f"{path} has {len(inputs)} inputs; skewcheck feeds one image tensor")
        self._input = inputs[0].name
        first = (inputs[0].shape or [None])[0]
        self.fixed_batch = first if isinstance(first, int) and first > 0 else None  # e.g. exported with batch 1
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.chunk_size = chunk_size
        used = "gpu" if "CUDAExecutionProvider" in self._session.get_providers() else "cpu"
        self.info = ModelInfo(
            path=str(path),
            format="onnx",
            inputs=[_spec(inputs[0])],
            outputs=[_spec(o) for o in self._session.get_outputs()],
            device=used,
        )

    def infer_chunk(self, chunk: np.ndarray) -> list[np.ndarray]:
        return list(self._session.run(self._outputs, {self._input: np.ascontiguousarray(chunk)}))


def _spec(arg: Any) -> TensorSpec:
    shape = tuple(d if isinstance(d, int) and d > 0 else None for d in (arg.shape or []))
    if shape:
        shape = (None, *shape[1:])  # the batch axis takes any size, as for the other runners
    dtype = _TYPES.get(arg.type)
    if dtype is None:
        raise UsageError(f"ONNX input/output {arg.name!r} has type {arg.type}, which skewcheck does not handle")
    return TensorSpec(name=arg.name, shape=shape, dtype=dtype)
