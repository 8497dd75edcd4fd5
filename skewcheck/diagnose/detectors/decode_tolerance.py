"""decode-tolerance: one side decodes a file that the other rejects.

Cause: OpenCV and ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` accept truncated JPEGs (grey or
repeated rows at the bottom) where PIL or tf.io reject them; garbage named ``.jpg`` reaches only
one side. Evidence: which side accepted, the other's error. When the image is a probe with a known
expectation, the side that deviates from it is named. Fix: make both sides agree, and prefer
rejecting (or logging) broken uploads.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("decode-tolerance",))


def detect(ctx: PairContext) -> list[Observation]:
    t, s = ctx.train, ctx.serve
    expect = getattr(ctx.probe, "expect", None)
    if t.ok and s.ok and expect == "reject":
        return [_both_accept(ctx)]
    if t.ok and s.status == "decode-error":
        accepted, rejected, rejecting = "train", s, "serve"
    elif s.ok and t.status == "decode-error":
        accepted, rejected, rejecting = "serve", t, "train"
    else:
        return []
    if expect == "reject":
        side = accepted
    elif expect == "same-as-base":
        side = rejecting
    else:
        side = None
    evidence = {"accepts": accepted, "rejects": rejecting, "error_type": rejected.error_type}
    probe_kind = getattr(ctx.probe, "kind", None)
    what = f"a {probe_kind} probe" if probe_kind else "this file"
    return [
        Observation(
            "decode-tolerance",
            Severity.MAJOR,
            side,
            evidence,
            f"{accepted} decodes {what} while {rejecting} rejects it ({rejected.error_type}).",
            "Decide one policy for broken files and apply it on both sides: reject them "
            "(PIL's default, tf.io) or accept them the same way; never let only one side accept.",
            1.0,
            merge_on=("accepts", "rejects"),
        )
    ]


def _both_accept(ctx: PairContext) -> Observation:
    kind = getattr(ctx.probe, "kind", "broken")
    return Observation(
        "decode-tolerance",
        Severity.MINOR,
        "both",
        {"accepts": "both", "probe": kind},
        f"both sides decode a {kind} probe that a correct pipeline rejects: consistent, but broken "
        "uploads reach the model in production.",
        "Reject (or at least log) files that the decoder reports as truncated or corrupt.",
        0.5,
    )
