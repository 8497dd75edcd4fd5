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

SPEC = DetectorSpec(kinds=("quantization",), supersedes=("scale", "normalization", "color-conversion"))

SAMPLE = 20_000
MAX_LEVELS = 32  # the quantized side holds at most this many values…
RICH = 64  # …where the other holds at least this many…
RATIO = 4  # …and at least this many times as many
NOISE = 0.05  # extra value changes along the sorted other side, as a share of the values
COVER = 0.9  # "many values": the other side needs many distinct values to cover this share of it…
MIN_COVER = 16  # …at least this many


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


def detect(ctx: PairContext) -> list[Observation]:
    s, _ = ctx.aligned_serve
    t = ctx.train.tensor
    if s is None or t is None or s.shape != t.shape or t.size < RICH * 4 or ctx.within_tolerance:
        return []
    if not (np.issubdtype(t.dtype, np.number) and np.issubdtype(s.dtype, np.number)):
        return []
    values = {"train": _sampled(t), "serve": _sampled(s)}
    if not all(np.isfinite(v).all() for v in values.values()):
        return []
    levels = {side: int(np.unique(v).size) for side, v in values.items()}
    for side, other in (("serve", "train"), ("train", "serve")):
        lq, lo = levels[side], levels[other]
        if lq > MAX_LEVELS or lo < RICH or lo < RATIO * lq:
            continue
        if _covering(values[other]) < max(RATIO * lq, MIN_COVER):
            continue
        if not _step_function(values[side], values[other], lq):
            continue
        return [_observation(side, other, lq, lo)]
    return []


def _observation(side: str, other: str, lq: int, lo: int) -> Observation:
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
    )
