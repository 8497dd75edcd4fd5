"""scale (against the model): a pipeline's value range contradicts what the model itself expects.

Cause: the model already normalizes its input (``Rescaling(1/255)``, ``Normalization``, a
``preprocess_input`` baked into the graph) and the pipeline normalizes again — or the other way
round, raw [0, 255] pixels into a model that expects [0, 1] — or a quantized TFLite model is fed
float values that were never quantized with its scale and zero point. Both pipelines can agree and
still both be wrong for the model: this check looks at each side against the model (side ``both``
when they make the same mistake), so it fires even where the pairwise diff is zero.
Evidence: ``expected_range`` (the model input), ``got_range`` (the pipeline's values, rounded to a
usual range), ``model_layer`` (what inside the model sets the expectation), ``network_sees`` (what
the layers after the input then get from this pipeline). Only Keras models and quantized TFLite
inputs are analysed (see ``skewcheck inspect``). When it fires, the pairwise ``scale`` finding of
the same image is dropped (``SPEC.supersedes``): the model, not the other pipeline, says which side is wrong.
Fix: feed the model the range it expects, once (remove the extra /255, or quantize).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("scale",), supersedes=("scale",))

_CANONICAL = ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0), (-128.0, 127.0))
RATIO_LIMIT = 20.0  # spans this many times apart cannot be the same convention
CRITICAL_RATIO = 50.0


def detect(ctx: PairContext) -> list[Observation]:
    expected = getattr(ctx, "model_expects", None)
    if expected is None:
        return []
    verdicts: dict[str, tuple[tuple[float, float], float]] = {}
    for side in ("train", "serve"):
        outcome = getattr(ctx, side)
        if outcome.ok:
            verdict = _contradiction(outcome.tensor, expected)
            if verdict is not None:
                verdicts[side] = verdict
    if not verdicts:
        return []
    same = len(verdicts) == 2 and verdicts["train"][0] == verdicts["serve"][0]
    sides = [("both", verdicts["train"])] if same else list(verdicts.items())
    return [_observation(side, got, ratio, expected) for side, (got, ratio) in sides]


def value_range(tensor: np.ndarray) -> tuple[float, float] | None:
    """The usual range the tensor's values fall in, or None when the values cannot tell."""
    if tensor.size == 0 or not np.issubdtype(tensor.dtype, np.number):
        return None
    lo, hi = float(np.min(tensor)), float(np.max(tensor))
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo <= 1e-6:
        return None
    if np.issubdtype(tensor.dtype, np.integer):
        info = np.iinfo(tensor.dtype)
        return (float(max(info.min, -128)), float(min(info.max, 255))) if info.bits == 8 else _nice(lo, hi)
    if hi <= 1.0 + 1e-3 and np.all(tensor == np.round(tensor)):
        return None  # only 0s and 1s: a nearly black [0, 255] image or a [0, 1] mask
    for c_lo, c_hi in _CANONICAL:
        tol = 1e-3 * (c_hi - c_lo)
        if lo >= c_lo - tol and hi <= c_hi + tol:
            return (c_lo, c_hi)
    return _nice(lo, hi)


def _nice(lo: float, hi: float) -> tuple[float, float]:
    """A stable bucket for other ranges: ±1, 2 or 5 × 10^k around the values."""
    m = max(abs(lo), abs(hi))
    k = math.floor(math.log10(m))
    bound = next(f * 10**k for f in (1, 2, 5, 10) if f * 10**k >= m)
    return (-float(bound) if lo < 0 else 0.0, float(bound))


def _contradiction(tensor: Any, expected: Any) -> tuple[tuple[float, float], float] | None:
    got = value_range(tensor)
    if got is None:
        return None
    e_lo, e_hi = expected.range
    ratio = (got[1] - got[0]) / (e_hi - e_lo)
    tol = 0.05 * (e_hi - e_lo)
    inside = got[0] >= e_lo - tol and got[1] <= e_hi + tol
    if expected.quantization is not None and tensor.dtype.name == expected.dtype:
        return None  # integers of the model's own dtype: quantized by the pipeline already
    if (1 / RATIO_LIMIT) < ratio < RATIO_LIMIT and inside:
        return None
    return got, ratio


def _observation(side: str, got: tuple[float, float], ratio: float, expected: Any) -> Observation:
    lo, hi = expected.range
    layer = (
        expected.because.split(" inside")[0]
        if expected.quantization is None
        else (f"quantized input (scale={expected.quantization[0]:.6g}, zero_point={expected.quantization[1]})")
    )
    sees = [float(f"{v:.3g}") for v in expected.inside(*got)]
    evidence = {
        "expected_range": _plain(expected.range),
        "got_range": _plain(got),
        "model_layer": layer,
        "network_sees": sees,
    }
    who = "both pipelines give" if side == "both" else f"{side} gives"
    explanation = (
        f"{who} values in [{got[0]:g}, {got[1]:g}] but the model {expected.text}: "
        f"its layers then see [{sees[0]:g}, {sees[1]:g}]."
    )
    target = "both pipelines" if side == "both" else f"the {side} pipeline"
    if expected.quantization is not None:
        from skewcheck.models.inspect import quantize_formula

        fix = (
            f"Quantize in {target} with the model's input parameters: "
            f"{quantize_formula(*expected.quantization)}, clipped to [{lo:g}, {hi:g}], as {expected.dtype}."
        )
    elif ratio < 1:
        fix = f"The model already normalizes its input ({layer}): remove the extra scaling from {target} and feed it [{lo:g}, {hi:g}]."
    else:
        fix = f"Scale {target} into [{lo:g}, {hi:g}] as the model expects (e.g. x / 255 before the model), once."
    magnitude = abs(math.log10(ratio)) if ratio > 0 else 1.0
    far = ratio >= CRITICAL_RATIO or ratio <= 1 / CRITICAL_RATIO
    repair = ("values",) if side == "serve" else ()  # toward train: only when train is the side that fits
    return Observation(
        "scale",
        Severity.CRITICAL if far else Severity.MAJOR,
        side,
        evidence,
        explanation,
        fix,
        magnitude,
        repair=repair,
    )


def _plain(r: tuple[float, float]) -> list[float | int]:
    return [int(v) if float(v).is_integer() else v for v in r]
