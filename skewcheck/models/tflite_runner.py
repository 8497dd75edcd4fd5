"""TensorFlow Lite flatbuffers, run with ``tf.lite.Interpreter`` on the CPU.

TFLite files often fix the batch axis to 1. A model whose signature leaves an axis dynamic (-1)
is resized to each chunk; a model with a fixed batch runs chunk by chunk at that size, padding
the last chunk with zeros and dropping the padded rows. Quantized outputs come back
dequantized to float32 (``(q - zero_point) * scale``) so their scores compare with float models;
quantized inputs are *not* quantized here: the batch must already hold the input dtype.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from skewcheck.errors import UsageError
from skewcheck.models._common import (
    DEFAULT_CHUNK,
    batch_axis_free,
    one_line,
)
from skewcheck.models.base import ModelInfo, TensorSpec
from skewcheck.models.batched import BatchedRunner
from skewcheck.models.load_check import check_tflite_loads, start_checker
from skewcheck.native import capture_native_stderr, import_tensorflow

_IDENTIFIER = b"TFL3"  # flatbuffer file identifier at bytes 4..8


class TFLiteRunner(BatchedRunner):
    def __init__(self, path: str | Path, *, device: str = "auto", chunk_size: int = DEFAULT_CHUNK) -> None:
        path = Path(path)
        if device == "gpu":
            raise UsageError("--device gpu: the TFLite interpreter runs on the CPU only; use --device cpu or auto")
        if not path.is_file():
            raise UsageError(f"model file not found: {path}")
        with open(path, "rb") as fh:
            if fh.read(8)[4:8] != _IDENTIFIER:
                raise UsageError(f"cannot load model {path}: not a TFLite flatbuffer (corrupt or wrong extension)")
        start_checker()  # imports TensorFlow alongside ours
        tf = import_tensorflow()
        check_tflite_loads(path)  # a file that crashes the interpreter crashes a child, not us
        self.chunk_size = chunk_size
        self.log: list[str] = []
        with self._quiet():
            try:
                self._interp = tf.lite.Interpreter(model_path=str(path))
                self._interp.allocate_tensors()
            except Exception as exc:  # ValueError / RuntimeError from the C++ side
                raise UsageError(f"cannot load model {path}: {one_line(exc)}") from None
        interp = self._interp
        inputs = interp.get_input_details()
        if len(inputs) != 1:
            raise UsageError(f"{path} has {len(inputs)} inputs; skewcheck feeds one image tensor")
        self._in = inputs[0]
        in_name, out_named = self._signature_names()
        self._outs = [d for _, d in out_named]
        shape_sig = [int(d) for d in self._in["shape_signature"]]
        self._dynamic = any(d < 0 for d in shape_sig)
        self.fixed_batch = None if self._dynamic else max(1, shape_sig[0])
        notes = list(self.log)
        if any(_quant(d) for d in self._outs):
            notes.append("quantized outputs are dequantized to float32 before comparison")
        self.info = ModelInfo(
            path=str(path),
            format="tflite",
            inputs=[_spec(in_name, self._in)],
            outputs=[_spec(n, d) for n, d in out_named],
            device="cpu",
            notes=notes,
        )

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Silence the deprecation warning and keep fd-2 lines (the XNNPACK INFO line) in ``log``."""
        with warnings.catch_warnings(), capture_native_stderr() as captured:
            warnings.simplefilter("ignore")
            yield
        self.log.extend(ln for ln in captured.lines if ln not in self.log)

    def _signature_names(self) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        """Input name and (name, details) per output: signature keys sorted when the file has one
        signature, else tensor names in the interpreter's output order."""
        interp = self._interp
        by_index = {d["index"]: d for d in interp.get_output_details()}
        sigs = interp.get_signature_list()
        if len(sigs) == 1:
            key = next(iter(sigs))
            runner = interp.get_signature_runner(key)
            in_details = runner.get_input_details()
            out_details = runner.get_output_details()
            if len(in_details) == 1 and all(d["index"] in by_index for d in out_details.values()):
                (in_name,) = in_details
                return in_name, [(k, by_index[out_details[k]["index"]]) for k in sorted(out_details)]
        return self._in["name"], [(d["name"], d) for d in interp.get_output_details()]

    def infer_chunk(self, chunk: np.ndarray) -> list[np.ndarray]:
        interp, idx = self._interp, self._in["index"]
        if self._dynamic and tuple(interp.get_input_details()[0]["shape"]) != chunk.shape:
            interp.resize_tensor_input(idx, list(chunk.shape))
            with self._quiet():
                interp.allocate_tensors()
        interp.set_tensor(idx, np.ascontiguousarray(chunk))
        interp.invoke()
        return [_dequantize(interp.get_tensor(d["index"]), d) for d in self._outs]


def _quant(details: dict[str, Any]) -> tuple[float, int] | None:
    scale, zero_point = details.get("quantization", (0.0, 0))
    return (float(scale), int(zero_point)) if scale else None


def _dequantize(values: np.ndarray, details: dict[str, Any]) -> np.ndarray:
    q = _quant(details)
    if q is None or not np.issubdtype(values.dtype, np.integer):
        return values
    return ((values.astype(np.float32) - q[1]) * q[0]).astype(np.float32)


def _spec(name: str, details: dict[str, Any]) -> TensorSpec:
    return TensorSpec(
        name=str(name),
        shape=batch_axis_free(details["shape_signature"]),
        dtype=np.dtype(details["dtype"]).name,
        quantization=_quant(details),
    )
