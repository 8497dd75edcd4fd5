"""Repairs: undo causes on the serve tensor, so attribution can measure what fixing each one buys.

A detector names the repair of what it found as a set of *components* (``Observation.repair``)
and declares how to apply the components it owns next to its ``detect`` (``SPEC.repairs``); the
generic ones (a shape, a layout, the value fit, a permutation, a dtype, the residual) are applied
here. This module walks them in one order, alone or together, so a finding's repair and the
"every fix at once" repair are built the same way. Every component moves serve
toward train (the measurement is symmetric: when train is the side at fault, the numbers say how
far the two sides agree once the fix is made).

Components, applied in this order:

- ``shape``: resample the serve tensor to train's spatial size (another resize target).
- ``layout``: move serve into train's axis layout (HWC↔CHW, batch or channel axis).
- ``orientation``: undo the flip / rotation / transpose that maps train onto serve (orientation.py).
- ``resize``, ``crop``, ``color-profile``: re-render the original file both ways the evidence
  names and move serve by exactly that difference (``rerender_repair.rerendered``), so what the
  cause does not explain stays.
- ``color-conversion``: a 1-channel serve tensor moved by train's gray conversion of the file minus
  serve's, under serve's value convention (color_conversion.py); between two libraries with the
  same weights, serve re-converted with train's library, rendered as serve was (gray_library.py).
- ``alpha``: on the file's transparent pixels only, serve replaced by train's rendering under
  serve's value convention (alpha.py).
- ``residual``: what the value fit leaves replaced by train's rendering under serve's value
  convention (for causes no re-rendering can name, e.g. another JPEG decoder). It removes every
  unexplained difference of the image, so it is used only where nothing finer exists.
- ``values``: invert the fitted value map (a factor, a per-channel affine map, a named preset).
- ``permutation``: put the channels back in train's order.
- ``padding``: re-frame serve as train does (another framing: the file rendered both ways,
  transplanted; another pad value: serve's padding set to train's under the value convention
  left at that point) (padding.py).
- ``dtype``: cast to train's dtype.

A detector's component that is not in this list is applied just before ``alpha``: on pixels in
serve's own value convention, after the re-renderings and before what the value fit predicts
replaces any (``gamma``: its transfer curve undone).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from skewcheck.comparison.metrics import CHUNK
from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.rerender_repair import Apply, train_values
from skewcheck.presets import PRESETS
from skewcheck.tensor_layout import is_chw

COMPONENTS = (
    "shape",
    "layout",
    "orientation",
    "resize",
    "crop",
    "color-profile",
    "color-conversion",
    "alpha",
    "residual",
    "values",
    "permutation",
    "padding",
    "dtype",
)
GENERIC = frozenset({"shape", "layout", "residual", "values", "permutation", "dtype"})


def repaired_serve(ctx: PairContext, components: Iterable[str]) -> np.ndarray | None:
    """The serve tensor with ``components`` undone, or None when they cannot be applied here."""
    wanted = set(components)
    unknown = wanted - GENERIC - set(_owned())
    if unknown:  # a detector's Observation.repair names a component this module does not apply
        raise ValueError(f"unknown repair component(s): {', '.join(sorted(unknown))}")
    if not ctx.both_ok or not wanted:
        return None
    t, s = ctx.train.tensor, ctx.serve.tensor
    assert t is not None and s is not None
    if not (np.issubdtype(t.dtype, np.number) and np.issubdtype(s.dtype, np.number)):
        return None
    aligned, move = ctx.aligned_serve
    if aligned is None or aligned.shape != t.shape:
        if "shape" not in wanted:
            return None
        aligned, move = _resample_to(s, t.shape), None
        if aligned is None:
            return None
    chw = is_chw(t)
    if "dtype" in wanted:
        dtype = t.dtype
    elif wanted & {"values", "residual", "shape", "padding"} and np.issubdtype(s.dtype, np.integer):
        dtype = np.dtype(np.float32)  # a divided or re-rendered integer tensor is no longer integral
    else:
        dtype = s.dtype
    out = (
        _pointwise(ctx, aligned, wanted, chw, dtype)
        if wanted <= POINTWISE
        else _whole(ctx, aligned, wanted, chw, dtype)
    )
    if out is None:
        return None
    return _unalign(out, move) if move is not None and "layout" not in wanted else out


POINTWISE = frozenset({"layout", "values", "permutation", "dtype"})  # per pixel: repaired in blocks of rows


def _pointwise(ctx: PairContext, aligned: np.ndarray, wanted: set[str], chw: bool, dtype: np.dtype) -> np.ndarray:
    """The repair of per-pixel components, written block by block (float64 rows, ``metrics.CHUNK``
    elements) into the repaired tensor: the values :func:`_whole` gives, without its full-size
    float64 copies."""
    fit = ctx.value_fit if "values" in wanted else None
    out = np.empty(aligned.shape, dtype)  # in train's layout
    src, dst = (np.moveaxis(aligned, 0, -1), np.moveaxis(out, 0, -1)) if chw else (aligned, out)
    perm = _permutation(ctx) if "permutation" in wanted else None
    if perm is not None and not (src.ndim >= 1 and src.shape[-1] == len(perm)):
        perm = None
    if src.ndim == 0:
        src, dst = src[None], dst[None]
    rows = max(1, CHUNK // max(1, src.size // max(1, src.shape[0])))
    for start in range(0, src.shape[0], rows):
        v = src[start : start + rows].astype(np.float64)
        if fit is not None:
            v = fit.keep_padding(_inverted(v, fit), v, start)
        if perm is not None:
            v = v[..., list(np.argsort(perm))]
        dst[start : start + rows] = _cast(v, dtype)
    return out


def _whole(ctx: PairContext, aligned: np.ndarray, wanted: set[str], chw: bool, dtype: np.dtype) -> np.ndarray | None:
    x = aligned.astype(np.float64)
    v: np.ndarray | None = np.moveaxis(x, 0, -1) if chw else x
    owned = _owned()
    for component in _order(owned):
        if component in wanted and v is not None:
            v = owned[component](ctx, v, wanted) if component in owned else _generic(ctx, component, v)
    if v is None:
        return None
    out = np.moveaxis(v, -1, 0) if chw else v
    return _cast(out, dtype)


def _owned() -> dict[str, Apply]:
    """Each detector's repair components (``SPEC.repairs``), by name."""
    from skewcheck.diagnose import specs

    return {component: apply for _, spec in specs() for component, apply in spec.repairs.items()}


def _order(owned: dict[str, Apply]) -> tuple[str, ...]:
    """COMPONENTS, with any component a detector owns that they do not list just before ``alpha``."""
    extra = tuple(sorted(set(owned) - set(COMPONENTS)))
    at = COMPONENTS.index("alpha")
    return COMPONENTS[:at] + extra + COMPONENTS[at:]


def _generic(ctx: PairContext, component: str, v: np.ndarray) -> np.ndarray:
    """The components no detector owns: the value fit's, inverted or applied to train."""
    fit = ctx.value_fit
    if component == "residual":  # what the value fit leaves: train's rendering under serve's convention
        tv = train_values(ctx)
        return fit.apply(tv) if fit is not None else tv
    if component == "values" and fit is not None:
        return _invert_values(v, fit)
    if component == "permutation":
        perm = _permutation(ctx)
        if perm is not None and v.ndim >= 1 and v.shape[-1] == len(perm):
            return v[..., list(np.argsort(perm))]
    return v  # shape, layout and dtype are applied around the walk


def _permutation(ctx: PairContext) -> list[int] | None:
    fit = ctx.value_fit
    if fit is not None and fit.permutation is not None:
        return list(fit.permutation)
    for obs in ctx.found:
        if obs.kind == "channel-order":
            return list(obs.evidence.get("permutation") or [])
    return None


def _invert_values(v: np.ndarray, fit) -> np.ndarray:
    return fit.keep_padding(_inverted(v, fit), v)  # padding equal on both sides stays as it is


def _inverted(v: np.ndarray, fit) -> np.ndarray:
    if fit.model == "presets" and fit.presets:
        return PRESETS[fit.presets[0]].apply(PRESETS[fit.presets[1]].invert(v))
    if fit.model == "scale" and fit.factor:
        return v / fit.factor
    if fit.model in ("affine", "channel-affine", "partial") and fit.slope:
        slope = np.array(fit.slope, dtype=np.float64)
        slope = np.where(np.abs(slope) < 1e-12, 1.0, slope)
        return (v - np.array(fit.offset, dtype=np.float64)) / slope
    return v


def _resample_to(s: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """Serve resampled (bilinear, OpenCV) to train's height and width; same channel count only."""
    if s.ndim != len(shape) or s.ndim not in (2, 3) or (s.ndim == 3 and s.shape[-1] != shape[-1]):
        return None
    if s.shape[0] * s.shape[1] == 0 or shape[0] * shape[1] == 0:
        return None
    import cv2

    out = cv2.resize(s.astype(np.float32), (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_LINEAR)
    return out.reshape(shape)


def _unalign(x: np.ndarray, move: str) -> np.ndarray:
    """Undo ``align_layout``: put a tensor in train's layout back into serve's."""
    return {
        "extra-batch-axis": lambda a: a[None],
        "missing-batch-axis": lambda a: a[0],
        "CHW-vs-HWC": lambda a: np.moveaxis(a, -1, 0),
        "HWC-vs-CHW": lambda a: np.moveaxis(a, 0, -1),
        "missing-channel-axis": lambda a: a[..., 0],
        "extra-channel-axis": lambda a: a[..., None],
    }[move](x)


def _cast(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.round(x), info.min, info.max).astype(dtype)
    return x.astype(dtype)
