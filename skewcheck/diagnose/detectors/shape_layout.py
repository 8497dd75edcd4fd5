"""shape / layout: the two tensors do not have the same shape.

Cause: one side transposes to CHW (PyTorch habit), keeps a batch axis, drops the channel axis of a
grayscale image, or produces another size. Evidence: both shapes and, for layout, the axis move
that aligns them. Fix: make the serving pipeline return the training shape.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("shape", "layout"), reads=("orientation",))

_LAYOUT_TEXT = {
    "extra-batch-axis": (
        "serve returns an extra leading batch axis",
        "drop the batch axis (tensor[0]) before comparing or batching",
    ),
    "missing-batch-axis": (
        "serve lacks the leading axis that train returns",
        "return the same rank as the training pipeline",
    ),
    "CHW-vs-HWC": (
        "serve returns channels-first (CHW), train channels-last (HWC)",
        "transpose the serve tensor to HWC: np.transpose(x, (1, 2, 0))",
    ),
    "HWC-vs-CHW": (
        "serve returns channels-last (HWC), train channels-first (CHW)",
        "transpose the serve tensor to CHW: np.transpose(x, (2, 0, 1))",
    ),
    "missing-channel-axis": (
        "serve drops the channel axis (H×W instead of H×W×1)",
        "keep the channel axis: x[..., None]",
    ),
    "extra-channel-axis": ("serve adds a channel axis of 1", "return the same rank as the training pipeline"),
}


def detect(ctx: PairContext) -> list[Observation]:
    if not ctx.both_ok:
        return []
    t, s = ctx.train.tensor, ctx.serve.tensor
    assert t is not None and s is not None
    if t.shape == s.shape or "orientation" in ctx.found_kinds:
        return []
    _, move = ctx.aligned_serve
    evidence = {"train": list(t.shape), "serve": list(s.shape)}
    if move is not None:
        what, fix = _LAYOUT_TEXT[move]
        return [
            Observation(
                "layout",
                Severity.MAJOR,
                "serve",
                {**evidence, "move": move},
                f"Layout differs: {what}.",
                fix.capitalize(),
                1.0,
                merge_on=("move",),
                repair=("layout",),
            )
        ]
    sizes = _sizes(ctx, t.shape, s.shape)
    if sizes is not None:
        evidence["sizes"] = sizes  # merged into the fitted resize policy (skewcheck/diagnose/measure/resize_policy.py)
    return [
        Observation(
            "shape",
            Severity.CRITICAL,
            "serve",
            evidence,
            f"Tensor shapes differ: train {tuple(t.shape)}, serve {tuple(s.shape)} "
            "(another resize target, crop or channel count).",
            "Make the serving pipeline resize/crop to the training shape and keep the channel count.",
            1.0,
            merge_on=(),
            repair=("shape",),
        )
    ]


def _sizes(ctx: PairContext, train_shape, serve_shape) -> list[list[int]] | None:
    """[[H0, W0], train H×W, serve H×W] when both are images of another spatial size than each other."""
    from skewcheck.diagnose.measure.resize_policy import spatial

    ref = ctx.reference
    t_hw, s_hw = spatial(tuple(train_shape)), spatial(tuple(serve_shape))
    if ref is None or t_hw is None or s_hw is None or t_hw == s_hw:
        return None
    rgb = ref.rgb_oriented
    if rgb is None:
        return None
    return [[int(rgb.shape[0]), int(rgb.shape[1])], [int(v) for v in t_hw], [int(v) for v in s_hw]]
