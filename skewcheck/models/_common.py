"""Helpers shared by the TensorFlow-backed runners: device choice, batch checks, error text."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from skewcheck.errors import UsageError, one_line  # noqa: F401 (one_line: used by the runners)
from skewcheck.models.base import TensorSpec

DEVICES = ("cpu", "gpu", "auto")
DEFAULT_CHUNK = 32  # images per forward pass for formats that take any batch size


def check_device_name(device: str) -> str:
    if device not in DEVICES:
        raise UsageError(f"--device must be one of {', '.join(DEVICES)}, not {device!r}")
    return device


def resolve_device(tf: ModuleType, requested: str) -> str:
    """Pick ``cpu`` or ``gpu`` for TensorFlow, hiding GPUs from it when the CPU is asked for.

    Hiding only works before TensorFlow initialises its runtime; after that the runners still pin
    their work with ``tf.device("/CPU:0")`` (see :func:`device_scope`).
    """
    check_device_name(requested)
    if requested == "cpu":
        with contextlib.suppress(RuntimeError, ValueError):
            tf.config.set_visible_devices([], "GPU")
        return "cpu"
    gpus = tf.config.list_logical_devices("GPU")
    if requested == "gpu" and not gpus:
        raise UsageError("--device gpu: TensorFlow sees no GPU here; use --device cpu or auto")
    return "gpu" if gpus else "cpu"


def device_scope(tf: ModuleType, device: str) -> Any:
    return tf.device("/GPU:0" if device == "gpu" else "/CPU:0")


def batch_axis_free(shape: Any) -> tuple[int | None, ...]:
    """A shape as a tuple of ints/None, with the batch (first) axis set to None."""
    dims = tuple(None if d is None or (isinstance(d, int | np.integer) and d < 0) else int(d) for d in shape)
    return (None, *dims[1:]) if dims else dims


def check_batch(batch: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Refuse a batch that does not fit the input: adapting it is fit_to_input's job, and a
    silent cast here would hide exactly the skew the report has to show."""
    batch = np.asarray(batch)
    if batch.ndim == 0 or batch.shape[0] == 0:
        raise ValueError(f"predict needs a batch of at least one image, got shape {batch.shape}")
    if spec.is_unknown:
        return batch
    if batch.dtype.name != spec.dtype:
        raise ValueError(
            f"batch dtype {batch.dtype.name} does not match model input {spec.name!r} "
            f"({spec.dtype}); adapt it with skewcheck.models.adapt.fit_to_input first"
        )
    want = spec.shape
    fits = batch.ndim == len(want) and all(w is None or w == g for w, g in zip(want[1:], batch.shape[1:], strict=True))
    if want and not fits:
        raise ValueError(
            f"batch shape {batch.shape} does not fit model input {spec.name!r} {want}; "
            "adapt it with skewcheck.models.adapt.fit_to_input first"
        )
    return batch


def chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def concat(parts: list[list[np.ndarray]], n_outputs: int) -> list[np.ndarray]:
    return [np.concatenate([p[i] for p in parts], axis=0) for i in range(n_outputs)]
