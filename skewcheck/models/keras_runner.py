"""Keras 3 models: ``.keras`` archives and legacy ``.h5`` files."""

from __future__ import annotations

import contextlib
import warnings
import zipfile
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
from skewcheck.models.keras_archive import check_keras_archive
from skewcheck.native import capture_native_stderr, import_tensorflow

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _looks_valid(path: Path, fmt: str) -> bool:
    """Keras reports a corrupt ``.keras`` file as "File not found"; check the container first."""
    if fmt == "keras":
        return zipfile.is_zipfile(path)
    with open(path, "rb") as fh:
        return fh.read(8) == _HDF5_SIGNATURE


def _is_safe_mode_refusal(exc: BaseException) -> bool:
    text = str(exc)
    return "safe_mode" in text or "unsafe_deserialization" in text


class KerasRunner(BatchedRunner):
    """Runs a Keras model with ``predict_on_batch`` in chunks; outputs in ``model.outputs`` order."""

    def __init__(
        self,
        path: str | Path,
        *,
        device: str = "auto",
        unsafe_load: bool = False,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        path = Path(path)
        fmt = "keras" if path.suffix.lower() == ".keras" else "h5"
        if not path.is_file():
            raise UsageError(f"model file not found: {path}")
        if not _looks_valid(path, fmt):
            kind = "a .keras zip archive" if fmt == "keras" else "an HDF5 file"
            raise UsageError(f"cannot load model {path}: not {kind} (corrupt or wrong extension)")
        if fmt == "keras":
            check_keras_archive(path)  # before Keras inflates config.json into memory
        tf = import_tensorflow()
        import keras  # noqa: PLC0415 (after import_tensorflow, which silences the logs)

        self._tf = tf
        self.chunk_size = chunk_size
        used = resolve_device(tf, device)
        with capture_native_stderr() as log, warnings.catch_warnings(), device_scope(tf, used):
            warnings.simplefilter("ignore")
            try:
                model = keras.saving.load_model(path, safe_mode=not unsafe_load, compile=False)
            except Exception as exc:  # keras raises ValueError, OSError, TypeError, KeyError...
                if _is_safe_mode_refusal(exc):
                    raise UsageError(
                        f"{path} contains a Lambda layer or other Python code that safe mode refuses "
                        "to deserialize; pass --unsafe-load if you trust the file"
                    ) from None
                raise UsageError(f"cannot load model {path}: {one_line(exc)}") from None
        self.model = model
        try:
            inputs = list(model.inputs or [])
        except Exception:  # subclassed models that were never called have no symbolic inputs
            inputs = []
        if not inputs:
            raise UsageError(f"{path}: the model declares no input signature (a subclassed model?)")
        if len(inputs) != 1:
            raise UsageError(f"{path} has {len(inputs)} inputs; skewcheck feeds one image tensor")
        outputs = list(model.outputs)
        names = _output_names(model, len(outputs))
        self.info = ModelInfo(
            path=str(path),
            format=fmt,
            inputs=[_spec(inputs[0], getattr(inputs[0], "name", "input"))],
            outputs=[_spec(t, n) for t, n in zip(outputs, names, strict=True)],
            device=used,
            notes=log.lines,
        )

    def scope(self) -> Any:
        return device_scope(self._tf, self.info.device)

    def infer_chunk(self, chunk: np.ndarray) -> list[np.ndarray]:
        return _flatten(self.model.predict_on_batch(chunk))


def _output_names(model: Any, n: int) -> list[str]:
    with contextlib.suppress(Exception):
        names = list(model.output_names)
        if len(names) == n:
            return [str(x) for x in names]
    return [f"output_{i}" for i in range(n)]


def _spec(tensor: Any, name: str) -> TensorSpec:
    return TensorSpec(name=str(name), shape=batch_axis_free(tensor.shape), dtype=str(tensor.dtype))


def _flatten(out: Any) -> list[np.ndarray]:
    """predict_on_batch returns an array, a list, or a dict (sorted keys, as keras.tree does)."""
    if isinstance(out, dict):
        return [np.asarray(out[k]) for k in sorted(out)]
    if isinstance(out, list | tuple):
        return [np.asarray(o) for o in out]
    return [np.asarray(out)]
