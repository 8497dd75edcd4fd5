"""A user function as the model: ``pkg.module:fn`` or ``path/to/file.py:fn``.

The function takes a batch ndarray and returns an array (or a tf.Tensor, torch tensor... anything
with ``__array__``), or a list/tuple/dict of them (dict: sorted keys). Its input signature is
unknown, so fit_to_input passes tensors through untouched; ``info.outputs`` is filled in from the
first call. The callable picks its own device, hence ``info.device == "unmanaged"``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from skewcheck.errors import UsageError
from skewcheck.models._common import one_line
from skewcheck.models.base import ModelInfo, TensorSpec
from skewcheck.models.batched import BatchedRunner


def split_ref(ref: str) -> tuple[str, str] | None:
    """``"a.b:fn"`` → ``("a.b", "fn")``; None when ``ref`` is not a callable reference."""
    target, sep, attr = ref.rpartition(":")
    if not sep or not target or not attr.isidentifier():
        return None
    return target, attr


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise UsageError(f"callable model: file not found: {path}")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"skewcheck_user_model_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"callable model: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # let the file import its siblings
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM during the import: an interruption, not a bad model
        sys.modules.pop(name, None)
        raise
    except BaseException as exc:  # noqa: BLE001 (user code: anything, SystemExit included)
        sys.modules.pop(name, None)
        raise UsageError(f"callable model: importing {path} failed: {type(exc).__name__}: {one_line(exc)}") from None
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module


def _import_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001
        raise UsageError(f"callable model: importing {name} failed: {type(exc).__name__}: {one_line(exc)}") from None


class CallableRunner(BatchedRunner):
    def __init__(self, ref: str) -> None:
        parts = split_ref(ref)
        if parts is None:
            raise UsageError(f"callable model {ref!r}: expected pkg.module:function or path/to/file.py:function")
        target, attr = parts
        module = _import_file(Path(target)) if target.endswith(".py") else _import_module(target)
        fn = getattr(module, attr, None)
        if fn is None:
            raise UsageError(f"callable model: {target} has no attribute {attr!r}")
        if not callable(fn):
            raise UsageError(f"callable model: {target}:{attr} is a {type(fn).__name__}, not a function")
        self._fn: Callable[[np.ndarray], Any] = fn
        self.info = ModelInfo(
            path=ref, format="callable", inputs=[TensorSpec.unknown("input")], outputs=[], device="unmanaged"
        )

    def infer_chunk(self, chunk: np.ndarray) -> list[np.ndarray]:
        names, outputs = _as_arrays(self._fn(chunk))
        if not self.info.outputs and all(o.ndim for o in outputs):
            self.info.outputs = [
                TensorSpec(name=n, shape=(None, *o.shape[1:]), dtype=o.dtype.name)
                for n, o in zip(names, outputs, strict=True)
            ]
        return outputs


def _as_arrays(result: Any) -> tuple[list[str], list[np.ndarray]]:
    """Output names and arrays: dict values by sorted key, else output_0, output_1..."""
    if isinstance(result, dict):
        names = sorted(str(k) for k in result)
        items = [result[k] for k in sorted(result, key=str)]
    else:
        items = list(result) if isinstance(result, list | tuple) else [result]
        names = [f"output_{i}" for i in range(len(items))]
    if not items:
        raise UsageError("callable model returned no outputs")
    arrays = []
    for item in items:
        if hasattr(item, "numpy") and not isinstance(item, np.ndarray):
            item = item.numpy()  # tf.Tensor (and torch tensors on the CPU)
        arrays.append(np.asarray(item))
    return names, arrays
