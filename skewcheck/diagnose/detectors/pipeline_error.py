"""pipeline-error: one side raises for a reason other than decoding, or returns NaN / Inf.

Cause: a mode the code does not handle (RGBA, palette, 16-bit, grayscale), a size assumption, a
division by a zero standard deviation, a bug. Evidence: the exception type (or the share of
non-finite values). Fix: handle that input in the failing pipeline.
"""

from __future__ import annotations

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("pipeline-error",), pure=True)


def detect(ctx: PairContext) -> list[Observation]:
    observations = []
    for side, mine, other in (("train", ctx.train, ctx.serve), ("serve", ctx.serve, ctx.train)):
        if mine.status == "pipeline-error" and other.status != "pipeline-error":
            observations.append(
                Observation(
                    "pipeline-error",
                    Severity.MAJOR,
                    side,
                    {"error_type": mine.error_type},
                    f"{side} raises {mine.error_type} where {'the other side succeeds' if other.ok else 'the other side fails differently'}: {mine.error}",
                    f"Handle this input in the {side} pipeline (see the error on the listed images).",
                    1.0,
                )
            )
        tensor = mine.tensor if mine.ok else None
        if tensor is not None and np.issubdtype(tensor.dtype, np.floating) and not np.isfinite(tensor).all():
            share = float(1 - np.isfinite(tensor).mean())
            observations.append(
                Observation(
                    "pipeline-error",
                    Severity.CRITICAL,
                    side,
                    {"non_finite": True},
                    f"{side} returns NaN or Inf values ({share:.0%} of the tensor): the model gets garbage.",
                    f"Find the division or log that overflows in the {side} pipeline (e.g. a zero std).",
                    share,
                    measures={"non_finite_share": round(share, 4)},
                )
            )
    return observations
