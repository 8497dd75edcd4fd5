"""pipeline-error: one side raises for a reason other than decoding, the other does not.

Cause: a mode the code does not handle (RGBA, palette, 16-bit, grayscale), a size assumption, a
bug. Evidence: the exception type and message. Fix: handle that input in the failing pipeline.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.findings import Observation, Severity


def detect(ctx: PairContext) -> list[Observation]:
    observations = []
    for side, mine, other in (("train", ctx.train, ctx.serve), ("serve", ctx.serve, ctx.train)):
        if mine.status == "pipeline-error" and other.status != "pipeline-error":
            observations.append(
                Observation(
                    "pipeline-error", Severity.MAJOR, side, {"error_type": mine.error_type},
                    f"{side} raises {mine.error_type} where {'the other side succeeds' if other.ok else 'the other side fails differently'}: {mine.error}",
                    f"Handle this input in the {side} pipeline (see the error on the listed images).",
                    1.0,
                )
            )
    return observations
