"""shape / layout (against the model): a pipeline's tensors do not fit the model's input signature.

A model that fails on one side's tensors only is a ``pipeline-error`` at the ``model`` stage.

Cause: both pipelines can agree with each other and still hand the model another size, rank or
axis order than it was built for (a decode that keeps each file's own size, a missing batch or
channel axis, CHW into an NHWC model). Evidence: the model's input and what the side gave; one
finding per kind and side, whatever the sizes (their distribution is in the evidence), side
``both`` when the two pipelines make the same mistake. Fix: return the model's input shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

if TYPE_CHECKING:
    from skewcheck.models.adapt import Mismatch

SPEC = DetectorSpec(kinds=("shape", "layout", "pipeline-error"), reads=("shape", "layout"))


def detect(ctx: PairContext) -> list[Observation]:
    pairwise = {(o.kind, o.side) for o in ctx.found if o.kind in SPEC.kinds}
    by_kind: dict[str, dict[str, Mismatch]] = {}
    for side in ("train", "serve"):
        for m in ctx.model_mismatches.get(side, ()):
            if m.kind in SPEC.kinds and (m.kind, side) not in pairwise:
                by_kind.setdefault(m.kind, {})[side] = m
    out = []
    for kind, sides in by_kind.items():
        same = len(sides) == 2 and sides["train"].got == sides["serve"].got
        for side, m in [("both", sides["train"])] if same else list(sides.items()):
            skipped = ctx.model_skipped.get("train" if side == "both" else side)
            adapted = "prediction skipped" if skipped else "adapted to keep comparing predictions"
            who = "both pipelines'" if side == "both" else f"{side}"
            out.append(
                Observation(
                    kind,
                    Severity.MAJOR if kind == "layout" else Severity.CRITICAL,
                    side,
                    {"model": m.expected, "got": m.got},
                    f"{who} tensors do not fit the model input ({m.detail}); {adapted}.",
                    f"Make {'both pipelines' if side == 'both' else f'the {side} pipeline'} return {m.expected}.",
                    1.0,
                    merge_on=("model",),
                )
            )
    out.extend(_model_errors(ctx))
    return out


def _model_errors(ctx: PairContext) -> list[Observation]:
    """The model failed on one side's tensor and not on the other's: that side's tensors differ in
    a way the model refuses, which is skew too (counted in the gate by its share of images)."""
    failed = [side for side in ("train", "serve") if ctx.model_errors.get(side)]
    if len(failed) != 1:
        return []
    side = failed[0]
    error = ctx.model_errors[side] or ""
    error_type = error.split(":", 1)[0] if ":" in error else "model error"
    return [
        Observation(
            "pipeline-error",
            Severity.MAJOR,
            side,
            {"stage": "model", "error_type": error_type},
            f"the model fails on {side} tensors that the other side's tensors get past ({error[:160]}).",
            f"Make the {side} pipeline return what the model accepts, or fix the model runtime for {side}'s inputs.",
            1.0,
            merge_on=("stage", "error_type"),
        )
    ]
