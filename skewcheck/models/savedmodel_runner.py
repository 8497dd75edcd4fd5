"""TensorFlow SavedModel directories, run through their ``serving_default`` signature."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from skewcheck.errors import UsageError
from skewcheck.models._common import (
    DEFAULT_CHUNK,
    batch_axis_free,
    device_scope,
    one_line,
    resolve_device,
)
from skewcheck.models.base import ModelInfo, TensorSpec
from skewcheck.models.batched import BatchedRunner
from skewcheck.native import capture_native_stderr, import_tensorflow

SIGNATURE = "serving_default"


class SavedModelRunner(BatchedRunner):
    """Calls the serving signature by keyword; outputs are the signature's keys, sorted."""

    def __init__(self, path: str | Path, *, device: str = "auto", chunk_size: int = DEFAULT_CHUNK) -> None:
        path = Path(path)
        if not (path / "saved_model.pb").is_file():
            raise UsageError(f"{path} is not a SavedModel directory (no saved_model.pb)")
        tf = import_tensorflow()
        self._tf = tf
        self.chunk_size = chunk_size
        used = resolve_device(tf, device)
        with capture_native_stderr() as log, warnings.catch_warnings(), device_scope(tf, used):
            warnings.simplefilter("ignore")
            try:
                loaded = tf.saved_model.load(str(path))
            except Exception as exc:  # OSError, DecodeError, ValueError, tf.errors.*
                raise UsageError(f"cannot load SavedModel {path}: {one_line(exc)}") from None
        signatures = dict(getattr(loaded, "signatures", {}) or {})
        if SIGNATURE not in signatures:
            have = ", ".join(sorted(signatures)) or "none"
            raise UsageError(f"SavedModel {path} has no {SIGNATURE!r} signature (has: {have})")
        self._loaded = loaded  # keeps the variables alive
        self._fn = signatures[SIGNATURE]
        args, kwargs = self._fn.structured_input_signature
        if args or len(kwargs) != 1:
            raise UsageError(
                f"SavedModel {path}: the {SIGNATURE!r} signature takes {len(args) + len(kwargs)} "
                "inputs; skewcheck feeds one image tensor"
            )
        ((self._input_key, in_spec),) = kwargs.items()
        outputs = self._fn.structured_outputs
        if not isinstance(outputs, dict):  # signatures always return dicts; be defensive
            outputs = {f"output_{i}": o for i, o in enumerate(tf.nest.flatten(outputs))}
        self._output_keys = sorted(outputs)
        self.info = ModelInfo(
            path=str(path),
            format="savedmodel",
            inputs=[_spec(self._input_key, in_spec)],
            outputs=[_spec(k, outputs[k]) for k in self._output_keys],
            device=used,
            notes=log.lines,
        )

    def scope(self) -> Any:
        return device_scope(self._tf, self.info.device)

    def infer_chunk(self, chunk: np.ndarray) -> list[np.ndarray]:
        out = self._fn(**{self._input_key: self._tf.constant(chunk)})
        return [np.asarray(out[k]) for k in self._output_keys]


def _spec(name: str, spec: Any) -> TensorSpec:
    shape = spec.shape.as_list() if spec.shape.rank is not None else []
    dtype = np.dtype(spec.dtype.as_numpy_dtype).name
    return TensorSpec(name=str(name), shape=batch_axis_free(shape), dtype=dtype)
