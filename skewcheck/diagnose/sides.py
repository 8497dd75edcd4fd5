"""Which side deviates, from evidence only: the model's expected input range, labels, or a
property of the output that only one side's method has. ``unknown`` when nothing tells.

Training is not assumed to be right: a bug can sit on either side, and a fix that tells serving
to copy a training bug makes things worse. Labels resolve ``unknown`` findings at the end of the
run (skewcheck/attribution/grade.py): the side that is less accurate on a finding's images.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext

UNKNOWN = "unknown"


def off_model_range(ctx: PairContext) -> str:
    """The side whose values fall outside the range the model expects, when exactly one does."""
    expected = ctx.model_expects
    if expected is None:
        return UNKNOWN
    from skewcheck.diagnose.detectors.model_range import value_range

    lo, hi = expected.range
    tol = 0.05 * (hi - lo)
    fits = {}
    for side in ("train", "serve"):
        tensor = getattr(ctx, side).tensor
        got = value_range(tensor) if tensor is not None else None
        if got is None:
            return UNKNOWN
        span_ratio = (got[1] - got[0]) / ((hi - lo) or 1.0)
        fits[side] = got[0] >= lo - tol and got[1] <= hi + tol and span_ratio > 0.2
    off = [side for side, ok in fits.items() if not ok]
    return off[0] if len(off) == 1 else UNKNOWN


def on_side(side: str, serve_text: str, train_text: str, unknown_text: str) -> str:
    return {"serve": serve_text, "train": train_text}.get(side, unknown_text)


def by_side(serve_text: str, train_text: str) -> tuple[tuple[str, str], ...]:
    """``Observation.fix_by_side``: the fix once labels tell the side."""
    return (("serve", serve_text), ("train", train_text))
