"""Fit one pipeline tensor to the model input, and say what did not fit.

A tensor that does not match the model's signature is a finding in itself (DESIGN.md, "Models"):
each difference becomes a :class:`Mismatch` for the report, and the tensor is adapted where that
is safe so the audit can still compare predictions. What is adapted, and how:

* layout (kept: the values; changed: the axes): a leading batch axis of 1 is dropped, CHW is
  transposed to HWC or back (channels 1, 3 or 4), a missing channel axis of 1 is added (or an
  extra one removed);
* dtype: cast to the input dtype. Into an integer input (a quantized TFLite model) float values
  are rounded and clipped to the dtype's range, never scaled or quantized: that is what a serving
  path which skips quantization does, and the skew it causes is what the report must show;
* any other shape (another size, another channel count): not adapted, ``tensor`` is None and the
  prediction for that image is skipped.

Tensors never carry the batch axis here: one image in, one image out, ready to stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from skewcheck.models.base import ANY_DTYPE, TensorSpec
from skewcheck.tensor_layout import CHANNEL_COUNTS

MismatchKind = Literal["dtype", "shape", "layout"]


@dataclass(frozen=True)
class Mismatch:
    kind: MismatchKind
    expected: str
    got: str
    detail: str


@dataclass(frozen=True)
class Adapted:
    tensor: np.ndarray | None  # None: could not be adapted safely, skip the prediction
    notes: tuple[str, ...] = ()
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def ok(self) -> bool:
        return self.tensor is not None


def fmt_shape(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def _fits(shape: tuple[int, ...], want: tuple[int | None, ...]) -> bool:
    return len(shape) == len(want) and all(w is None or w == g for w, g in zip(want, shape, strict=True))


def _relayouts(t: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """Candidate re-layouts of one image, as (what was done, result); the first that fits wins."""
    if t.ndim == 3 and t.shape[0] in CHANNEL_COUNTS:
        yield "transposed CHW → HWC", np.transpose(t, (1, 2, 0))
    if t.ndim == 3 and t.shape[2] in CHANNEL_COUNTS:
        yield "transposed HWC → CHW", np.transpose(t, (2, 0, 1))
    if t.ndim == 2:
        yield "added a channel axis of 1", t[..., np.newaxis]
        yield "added a leading channel axis of 1", t[np.newaxis]
    if t.ndim == 3 and t.shape[2] == 1:
        yield "removed a channel axis of 1", t[..., 0]


def _fit_shape(tensor: np.ndarray, want: tuple[int | None, ...]) -> tuple[np.ndarray | None, list[str]]:
    """The tensor re-laid out to ``want`` and the steps taken, or (None, []) when it cannot be."""
    if _fits(tensor.shape, want):
        return tensor, []
    steps: list[str] = []
    if tensor.ndim == len(want) + 1 and tensor.shape[0] == 1:
        tensor = tensor[0]
        steps.append("dropped an extra leading batch axis of 1")
        if _fits(tensor.shape, want):
            return tensor, steps
    for description, candidate in _relayouts(tensor):
        if _fits(candidate.shape, want):
            return candidate, [*steps, description]
    return None, []


def _cast(tensor: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, list[str]]:
    src = tensor.dtype
    notes = [f"cast {src.name} → {dtype.name} to fit the model input"]
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = tensor
        if np.issubdtype(src, np.floating):
            if not np.all(np.isfinite(values)):
                notes.append("non-finite values set to 0 before the cast")
                values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
            values = np.rint(values)
            notes[0] = f"cast {src.name} → {dtype.name} (rounded, clipped to [{info.min}, {info.max}])"
        if values.size and (values.min() < info.min or values.max() > info.max):
            if not np.issubdtype(src, np.floating):
                notes[0] = f"cast {src.name} → {dtype.name} (clipped to [{info.min}, {info.max}])"
            values = np.clip(values, info.min, info.max)
        return values.astype(dtype), notes
    return tensor.astype(dtype), notes


def fit_to_input(tensor: np.ndarray, spec: TensorSpec) -> Adapted:
    """Adapt one image tensor (no batch axis) to ``spec`` (with batch axis); see the module doc."""
    tensor = np.asarray(tensor)
    if spec.is_unknown:
        return Adapted(tensor)
    notes: list[str] = []
    mismatches: list[Mismatch] = []
    want = tuple(spec.shape[1:])
    if spec.shape:
        fitted, steps = _fit_shape(tensor, want)
        if fitted is None:
            detail = (
                f"the tensor {fmt_shape(tensor.shape)} does not fit the model input "
                f"{fmt_shape(want)} and cannot be re-laid out safely; prediction skipped"
            )
            mismatches.append(Mismatch("shape", fmt_shape(want), fmt_shape(tensor.shape), detail))
            return Adapted(None, (detail,), tuple(mismatches))
        if steps:
            mismatches.append(Mismatch("layout", fmt_shape(want), fmt_shape(tensor.shape), "; ".join(steps)))
            notes.append(f"{'; '.join(steps)}: {fmt_shape(tensor.shape)} → {fmt_shape(fitted.shape)}")
        tensor = fitted
    if spec.dtype != ANY_DTYPE and tensor.dtype.name != spec.dtype:
        target = np.dtype(spec.dtype)
        got = tensor.dtype.name
        tensor, cast_notes = _cast(tensor, target)
        detail = f"the pipeline produced {got}, the model input is {target.name}"
        if spec.quantization is not None and np.issubdtype(np.dtype(got), np.floating):
            scale, zero_point = spec.quantization
            detail += (
                f" (quantized: scale={scale:.6g}, zero_point={zero_point}); no quantization was "
                "applied, the float values were rounded and clipped as they are"
            )
        mismatches.append(Mismatch("dtype", target.name, got, detail))
        notes.extend(cast_notes)
    return Adapted(tensor, tuple(notes), tuple(mismatches))
