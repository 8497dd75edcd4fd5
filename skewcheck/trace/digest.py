"""A compact, comparable copy of one intermediate image value seen while tracing a pipeline.

Only three kinds of value are looked at, without importing a library to recognise them: NumPy
arrays, PIL images and TensorFlow eager tensors (through ``.numpy()``). Anything else a pipeline
binds (a list, a dict, a user object with ``__array__``) is left alone: calling a user's
``__array__`` could run anything. A value is kept only when it looks like an image (two spatial
axes of at least ``MIN_SIDE``), so a mean vector or a kernel never stands for a pipeline step.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

SAMPLES = 32  # points kept per spatial axis: a digest holds at most 32 x 32 x C float32 values
MIN_SIDE = 4  # an image-like value has two axes at least this long
MAX_CHANNELS = 4


@dataclass(frozen=True, eq=False)  # compared by identity: == on its sample would be an array
class Digest:
    """Shape and dtype of the value, ``SAMPLES`` evenly spaced points per long axis, statistics."""

    shape: tuple[int, ...]  # leading batch axis of 1 dropped
    dtype: str
    sample: np.ndarray  # float32, the same axes as ``shape`` (each axis longer than SAMPLES sampled)
    mean: float
    low: float
    high: float

    @property
    def span(self) -> float:
        return self.high - self.low


def as_array(value: Any) -> np.ndarray | None:
    """The value as an ndarray when it is one of the three image carriers, else None."""
    if isinstance(value, np.ndarray):
        return value
    image_module = sys.modules.get("PIL.Image")
    if image_module is not None and isinstance(value, image_module.Image):
        return np.asarray(value)
    tf = sys.modules.get("tensorflow")
    tensor_type = getattr(tf, "Tensor", None) if tf is not None else None
    if tensor_type is not None and isinstance(value, tensor_type) and hasattr(value, "numpy"):
        return np.asarray(value.numpy())  # a symbolic tensor raises here: the caller skips it
    return None


def image_like(array: np.ndarray) -> bool:
    shape = array.shape[1:] if array.ndim == 4 and array.shape[0] == 1 else array.shape
    if len(shape) not in (2, 3) or array.dtype == object:
        return False
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        return False
    if len(shape) == 3 and min(shape[0], shape[-1]) > MAX_CHANNELS:
        return False  # no axis reads as channels (HWC or CHW)
    return sorted(shape)[-2] >= MIN_SIDE


def digest(array: np.ndarray) -> Digest:
    """Sampled points (nearest, evenly spaced: the same points for any two arrays of one shape)."""
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    index = tuple(_points(n) for n in array.shape)
    sample = np.asarray(array[np.ix_(*index)], dtype=np.float32)
    with np.errstate(all="ignore"):
        values = array.astype(np.float64, copy=False) if array.dtype == bool else array
        mean = float(np.mean(values, dtype=np.float64))
        low, high = float(np.min(values)), float(np.max(values))
    return Digest(tuple(int(n) for n in array.shape), str(array.dtype), sample, mean, low, high)


def _points(n: int) -> np.ndarray:
    if n <= SAMPLES:
        return np.arange(n)
    return np.round(np.linspace(0, n - 1, SAMPLES)).astype(np.intp)
