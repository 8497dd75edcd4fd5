"""Where the transforms act: on the train pipeline's tensor, in its own value range.

The train pipeline decodes each file into the model's input tensor. The built-in transforms work
on an H×W×C float image in [0, 1], so the tensor is mapped there through its value range
``(lo, hi)``, transformed, and mapped back to its own dtype (integers rounded and clipped). The
range is ``--value-range LO,HI`` or, by default, read from the clean tensors: uint8 → [0, 255];
values inside [0, 1] → [0, 1]; inside [-1, 1] → [-1, 1]; inside [0, 255] → [0, 255]; anything
else (a per-channel normalisation) → the observed minimum and maximum, which the report says,
because then brightness and noise strengths are shares of that span. A C×H×W tensor is moved to
H×W×C for the transform and back; a 2-D one gets a channel axis for the transform and loses it
after.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from skewcheck.errors import UsageError
from skewcheck.tensor_layout import is_chw

ValueRange = tuple[float, float]


def parse_value_range(text: str | None) -> ValueRange | None:
    """``"auto"``/None → None (read from the tensors); ``"LO,HI"`` → (LO, HI)."""
    if text is None or text.strip().lower() == "auto":
        return None
    parts = text.split(",")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise UsageError(f"--value-range must be auto or LO,HI (e.g. 0,1 or 0,255), got {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise UsageError(f"--value-range needs finite LO < HI, got {text!r}")
    return lo, hi


def infer_value_range(tensors: Sequence[np.ndarray]) -> tuple[ValueRange, str]:
    """The range of the clean tensors, and how it was told (for the report)."""
    numeric = [t for t in tensors if t.size and np.issubdtype(t.dtype, np.number)]
    if not numeric:
        return (0.0, 1.0), "no numeric tensor: [0, 1] assumed"
    if all(t.dtype == np.uint8 for t in numeric):
        return (0.0, 255.0), "uint8 tensors"
    lo = min(float(np.nanmin(t)) for t in numeric)
    hi = max(float(np.nanmax(t)) for t in numeric)
    dtype = str(numeric[0].dtype)
    for lo_, hi_ in ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0)):
        if lo >= lo_ and hi <= hi_:
            return (lo_, hi_), f"{dtype} tensors with values in [{lo:g}, {hi:g}]"
    if hi <= lo:
        hi = lo + 1.0
    return (lo, hi), f"{dtype} tensors: the observed span [{lo:g}, {hi:g}] (pass --value-range to set it)"


def to_unit(tensor: np.ndarray, value_range: ValueRange) -> np.ndarray:
    """The tensor as an H×W×C float32 image in [0, 1]."""
    lo, hi = value_range
    image = np.asarray(tensor, dtype=np.float32)
    if image.ndim == 2:
        image = image[:, :, None]
    elif is_chw(image):
        image = np.moveaxis(image, 0, -1)
    if image.ndim != 3:
        raise ValueError(f"an image tensor has 2 or 3 axes, this one has shape {list(tensor.shape)}")
    return np.ascontiguousarray((image - lo) / (hi - lo), dtype=np.float32)


def from_unit(image: np.ndarray, like: np.ndarray, value_range: ValueRange) -> np.ndarray:
    """Back to ``like``'s layout, range and dtype."""
    lo, hi = value_range
    out = np.asarray(image, dtype=np.float32) * (hi - lo) + lo
    if like.ndim == 2:
        out = out[:, :, 0]
    elif is_chw(like):
        out = np.moveaxis(out, -1, 0)
    if np.issubdtype(like.dtype, np.integer):
        info = np.iinfo(like.dtype)
        out = np.clip(np.round(out), info.min, info.max)
    return out.astype(like.dtype, copy=False)
