"""nondeterminism: a pipeline gives different tensors for the same bytes.

Cause: random augmentation left on in the serving (or evaluation) path, random crops, a dropout
layer called in training mode, an unseeded generator. Evidence: the largest difference between
two runs of the same pipeline on the same file. Fix: disable augmentation outside training.
"""

from __future__ import annotations

from skewcheck.comparison.metrics import equal_values, max_abs_diff
from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("nondeterminism",))


def detect(ctx: PairContext) -> list[Observation]:
    observations = []
    for side, first in (("train", ctx.train), ("serve", ctx.serve)):
        again = ctx.repeats.get(side)
        if again is None or first.tensor is None:
            continue
        a, b = first.tensor, again.tensor
        if b is not None and a.shape == b.shape and (b is a or equal_values(a, b)):
            continue
        if b is not None and a.shape == b.shape:
            diff = max_abs_diff(a, b)
            detail = "the two runs differ"
        else:
            diff, detail = float("nan"), "the second run gave another shape or failed"
        observations.append(
            Observation(
                "nondeterminism",
                Severity.CRITICAL,
                side,
                {},
                f"{side} gives different tensors for the same bytes ({detail}): randomness is left on, "
                "so its other differences may be random too.",
                f"Turn off augmentation / random crops in the {side} pipeline outside training, or seed it.",
                1.0,
                measures={"max_abs_diff_between_runs": diff} if diff == diff else {},
            )
        )
    return observations
