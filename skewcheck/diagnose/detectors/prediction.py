"""prediction: predictions differ beyond tolerance and no tensor-level cause explains it.

Cause: a difference none of the other detectors recognises (device numerics, another runtime,
small decoder differences amplified by the model). Evidence: top-1 under each side, max |Δp|,
Jensen-Shannon divergence, or the output statistics for non-class outputs. Fix: look at the worst
images' tensors; pin library versions and preprocessing code.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("prediction",), catch_all=True)

MAX_DP = 0.05  # a change of class probability above this is reported even without a flip


def detect(ctx: PairContext) -> list[Observation]:
    if ctx.found:  # something above already explains this image
        return []
    p = ctx.prediction
    if p is not None and (p.flipped or p.max_abs_dp > MAX_DP):
        severity = Severity.MINOR
        return [
            Observation(
                "prediction",
                severity,
                "unknown",
                {},
                "Predictions differ (top-1 flips or max |Δp| > 0.05) with no tensor-level cause found.",
                "Inspect the worst images' tensors; pin decoder/resize libraries and versions on both sides.",
                p.max_abs_dp,
            )
        ]
    if p is None and ctx.answer_changed:  # a dense map, embedding or detections changed (docs/models.md)
        return [
            Observation(
                "prediction",
                Severity.MINOR,
                "unknown",
                {"answer_changed": True},
                "The model's answer changed (by the task's own test) with no tensor-level cause found.",
                "Inspect the worst images' tensors; pin decoder/resize libraries and versions on both sides.",
                1.0,
            )
        ]
    if p is None and ctx.outputs_within_tolerance is False:
        return [
            Observation(
                "prediction",
                Severity.INFO if ctx.answer_changed is False else Severity.MINOR,
                "unknown",
                {},
                "Model outputs differ beyond atol/rtol with no tensor-level cause found.",
                "Inspect the worst images' tensors; pin decoder/resize libraries and versions on both sides.",
                1.0,
            )
        ]
    return []
