"""scale: serve ≈ k · train for one global factor k (255, 1/255, 127.5 …).

Cause: a missing or doubled ``/ 255`` (the classic: trained on [0, 1], served raw uint8), or
uint16 vs uint8 decoding. Evidence: the fitted k and its name when it is a usual constant.
Fix: apply the same scaling on both sides, once. The side is the one outside the model's expected
input range when the model tells (skewcheck/diagnose/sides.py), else ``unknown`` until labels tell.
"""

from __future__ import annotations

import math

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.fit import named_factor
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.replay import Apply, Candidate
from skewcheck.diagnose.sides import by_side, off_model_range, on_side
from skewcheck.findings import Observation, Severity

_RAW_UNIT = {"raw", "unit"}


def detect(ctx: PairContext) -> list[Observation]:
    fit = ctx.value_fit
    if fit is None:
        return []
    if fit.model == "presets" and fit.presets and set(fit.presets) == _RAW_UNIT:
        k = 255.0 if fit.presets == ("unit", "raw") else 1 / 255
    elif fit.model == "scale" and fit.factor is not None and abs(fit.factor - 1) > 1e-3:
        k = fit.factor
    else:
        return []
    if any(o.kind == "normalization" and "std_division" in o.evidence for o in ctx.found):
        return []  # a skipped division by std, which normalization named on this image
    name = named_factor(k)
    evidence: dict[str, object] = {"k": float(f"{k:.6g}")}
    if name:
        evidence["k_named"] = name
    magnitude = abs(math.log10(abs(k))) if k else 1.0
    severity = Severity.CRITICAL if magnitude >= 1 else Severity.MAJOR
    shown = name or f"{k:.4g}"
    inverse = name_of_inverse(k)
    side = off_model_range(ctx)
    if k > 1:
        fixes = by_side(
            f"Divide the serve tensor by {shown} (as training does), after casting to float.",
            f"Multiply the train tensor by {shown} (as serving does), or retrain on serving's range.",
        )
        fix = on_side(
            side,
            dict(fixes)["serve"],
            dict(fixes)["train"],
            f"Scale both sides alike: serve = {shown} × train. If the model learnt train's range, divide "
            f"serve by {shown}; if it learnt serve's, multiply train by {shown}.",
        )
    else:
        fixes = by_side(
            f"Remove the extra division in serve (multiply by {inverse}) so it matches training.",
            f"Divide the train tensor by {inverse} as serving does, or retrain on serving's range.",
        )
        fix = on_side(
            side,
            dict(fixes)["serve"],
            dict(fixes)["train"],
            f"Scale both sides alike: train = {inverse} × serve. If the model learnt train's range, "
            f"multiply serve by {inverse}; if it learnt serve's, divide train by {inverse}.",
        )
    return [
        Observation(
            "scale",
            severity,
            side,
            evidence,
            f"serve tensors are {shown} × train tensors: the value scaling differs (e.g. a missing or extra /255).",
            fix,
            magnitude,
            merge_on=("k_named",),  # an unnamed factor varies a little by image: one finding
            repair=("values",),
            fix_by_side=fixes,
        )
    ]


def name_of_inverse(k: float) -> str:
    return named_factor(1 / k) or f"{1 / k:.4g}"


def replay() -> list[Candidate]:
    """The black-box replay's candidates (skewcheck/diagnose/replay.py): train's values ×255 and ÷255."""
    return [
        Candidate(
            "×255",
            "scale",
            {"k": 255.0},
            "The serving stack feeds values 255× larger than training: divide by 255 in its preprocessing, as training does.",
            _times(255.0),
        ),
        Candidate(
            "÷255",
            "scale",
            {"k": round(1 / 255, 8)},
            "The serving stack divides by 255 once more than training: remove the extra scaling.",
            _times(1 / 255),
        ),
    ]


def _times(k: float) -> Apply:
    return lambda t, img: t.astype(np.float64) * k


SPEC = DetectorSpec(kinds=("scale",), reads=("normalization",), replay=replay)
