"""quantization: one side holds a handful of values, a step function of the other side's many.

Cause: integer division where a float one was meant (``uint8 // 255`` leaves every pixel 0 or 1),
a cast to an integer type after scaling (``(x / 255).astype(np.uint8)``), a bit-depth cut
(``x >> 4``), posterization. Such a tensor is no rescaled copy of the other: a scale fit finds a
factor, but its repair cannot bring back what the rounding threw away.
Evidence: the distinct values on each side (on up to ``SAMPLE`` values of the tensor), and that
the quantized side is a step function of the other (sorted by the other side, it changes value at
most once per level, give or take ``NOISE`` of the values: rounding at the steps' edges). The
other side must be rich where it counts: ``COVER`` of its values spread over many levels, so a
two-tone page (white and black, a few grey edge pixels) resampled another way is not quantization.
Fix: divide as floats (``x / 255.0``, not ``x // 255``) and cast to the model's dtype only after
scaling, on the quantized side. Nothing applied afterwards undoes it.
"""

from __future__ import annotations

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity
from skewcheck.tensor_layout import CHANNEL_COUNTS, is_chw

VALUE_KINDS = ("scale", "normalization", "color-conversion")
# what a few levels leave no trace of: re-renders and colour models matched against 2-4 values
PICTURE_KINDS = ("resize", "crop", "padding", "alpha", "color-profile", "jpeg-decoder")
SPEC = DetectorSpec(kinds=("quantization",), reads=PICTURE_KINDS, supersedes=VALUE_KINDS)

SAMPLE = 20_000
MAX_LEVELS = 32  # the quantized side holds at most this many values…
RICH = 64  # …where the other holds at least this many…
RATIO = 4  # …and at least this many times as many
NOISE = 0.05  # extra value changes along the sorted other side, as a share of the values
COVER = 0.9  # "many values": the other side needs many distinct values to cover this share of it…
MIN_COVER = 16  # …at least this many
COARSE = 4  # with this few levels any value fit on the pair is the rounding's artefact


def _sampled(a: np.ndarray) -> np.ndarray:
    flat = a.reshape(-1)
    step = max(1, flat.size // SAMPLE)
    return flat[::step].astype(np.float64)


def _covering(a: np.ndarray) -> int:
    """How many of its most frequent values it takes to cover ``COVER`` of ``a``."""
    _, counts = np.unique(a, return_counts=True)
    cumulative = np.cumsum(np.sort(counts)[::-1])
    return int(np.searchsorted(cumulative, COVER * a.size) + 1)


def _step_function(q: np.ndarray, o: np.ndarray, levels: int) -> bool:
    """``q`` changes value at most ``levels - 1`` times (plus noise) along ``o`` sorted."""
    order = np.lexsort((q, o))
    changes = int(np.count_nonzero(np.diff(q[order])))
    return changes <= levels - 1 + NOISE * q.size


def _channel_samples(a: np.ndarray) -> list[np.ndarray]:
    """Each channel's sampled values (a per-channel normalization after the rounding maps each
    channel's levels to other values: counted together, 32 levels would read as 96). Views are
    strided, so no channel is copied whole."""
    if is_chw(a):
        return [_sampled(c) for c in a]
    if a.ndim >= 3 and a.shape[-1] in CHANNEL_COUNTS and a.shape[-1] > 1:
        channels = a.shape[-1]
        flat = a.reshape(-1)
        step = max(1, flat.size // channels // SAMPLE)
        return [flat[c::channels][::step].astype(np.float64) for c in range(channels)]
    return [_sampled(a)]


def detect(ctx: PairContext) -> list[Observation]:
    s, _ = ctx.aligned_serve
    t = ctx.train.tensor
    if s is None or t is None or s.shape != t.shape or t.size < RICH * 4 or ctx.within_tolerance:
        return []
    if not (np.issubdtype(t.dtype, np.number) and np.issubdtype(s.dtype, np.number)):
        return []
    pooled = [(_sampled(t), _sampled(s))]
    if not np.isfinite(pooled[0][0]).all() or not np.isfinite(pooled[0][1]).all():
        return []
    per_channel: list[tuple[np.ndarray, np.ndarray]] = []
    for side, other in (("serve", "train"), ("train", "serve")):
        found = _pooled(pooled[0], side)
        if found is None and not per_channel:
            per_channel = list(zip(_channel_samples(t), _channel_samples(s), strict=True))
        if found is None and len(per_channel) > 1:
            found = _per_channel(per_channel, side)
        if found is not None:
            return [_observation(side, other, *found, _replaces(ctx, found[0]))]
    return []


def _pooled(pair: tuple[np.ndarray, np.ndarray], side: str) -> tuple[int, int] | None:
    t, s = pair
    return _quantized(s, t) if side == "serve" else _quantized(t, s)


def _per_channel(pairs: list[tuple[np.ndarray, np.ndarray]], side: str) -> tuple[int, int] | None:
    """Every channel of ``side`` quantized against some channel of the other (a BGR swap beside
    the rounding pairs serve's blue with train's red): (most levels, fewest levels of the other)."""
    quantized = [s if side == "serve" else t for t, s in pairs]
    others = [t if side == "serve" else s for t, s in pairs]
    found = []
    for i, q in enumerate(quantized):
        order = [others[i], *others[:i], *others[i + 1 :]]  # its own channel first
        hit = next(filter(None, (_quantized(q, o) for o in order)), None)
        if hit is None:
            return None
        found.append(hit)
    return max(f[0] for f in found), min(f[1] for f in found)


def _quantized(q: np.ndarray, o: np.ndarray) -> tuple[int, int] | None:
    """(levels of ``q``, levels of ``o``) when ``q`` is a quantized step function of a rich ``o``."""
    lq = int(np.unique(q).size)
    if lq > MAX_LEVELS:
        return None  # a rich side (every pair without a rounding): the other side is not counted
    lo = int(np.unique(o).size)
    if lo < RICH or lo < RATIO * lq:
        return None
    if _covering(o) < max(RATIO * lq, MIN_COVER):
        return None
    if not _step_function(q, o, lq):
        return None
    return lq, lo


def _value_map_stands(ctx: PairContext, levels: int) -> bool:
    """Whether the pair's value fit is a transform of its own beside the rounding (a normalization
    applied after a bit-depth cut): with many levels the rounding moves values by a step at most,
    so a fit far from identity is another cause. With a few levels (``x // 255``) it never is."""
    fit = ctx.value_fit
    if levels <= COARSE or fit is None or not fit.explained:
        return False
    if fit.model == "presets":
        return True
    if fit.model == "scale" and fit.factor is not None:
        return abs(fit.factor - 1) > 0.05
    if fit.model in ("affine", "channel-affine", "partial"):
        t = ctx.train.tensor
        spread = float(np.ptp(t)) if t is not None and t.size else 1.0
        return any(abs(a - 1) > 0.05 for a in fit.slope) or any(abs(b) > 0.05 * spread for b in fit.offset)
    return False


def _replaces(ctx: PairContext, levels: int) -> tuple[str, ...]:
    """The kinds this rounding explains on its image: the value fits (unless one stands on its
    own), a resize that no method reproduces (the steps are what no resampler renders), and with
    a few levels every comparison of renderings (a crop, a padding, an alpha or ICC reading)."""
    kinds = () if _value_map_stands(ctx, levels) else VALUE_KINDS
    if levels <= COARSE:  # 0 or 1 everywhere: no rendering of the file can be told from another
        return (*kinds, *PICTURE_KINDS)
    if any(o.kind == "resize" and o.repair == ("residual",) for o in ctx.found):
        kinds = (*kinds, "resize")
    return kinds


def _observation(side: str, other: str, lq: int, lo: int, replaces: tuple[str, ...] = VALUE_KINDS) -> Observation:
    # what it costs is measured, not guessed: a few levels move the inputs grossly (the gate's
    # floor), and what the unrounded tensor recovers through the model grades it
    severity = Severity.MINOR
    what = "a single value" if lq == 1 else f"{lq} distinct values"
    return Observation(
        "quantization",
        severity,
        side,
        {"quantized": side},
        f"{side} tensors hold {what} where {other} holds {lo}: {side} is a step function of {other} "
        "(quantized: integer division, a cast to an integer type after scaling, or a bit-depth cut); "
        "no rescaling undoes it.",
        f"In {side}, divide as floats (x / 255.0, not x // 255) and cast to the model's dtype only after "
        "scaling; do not round or cut bits before the model.",
        magnitude=1.0 - lq / lo,
        repair=("residual",),  # measured as the tensor without the rounding: train's values, mapped
        supersedes=replaces,
    )
