"""normalization: a per-channel affine map explains serve from train.

Cause: another mean/std (ImageNet vs [-1, 1]), a Keras ``preprocess_input`` of another model
family (caffe vs tf vs torch), or normalization applied twice or not at all. Evidence: the preset
each side matches when both are known conventions, otherwise the fitted slope and offset per
channel. Fix: use the training side's preset in serving.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.presets import ALIASES, PRESETS
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("normalization",))


def _r(x: float) -> float:
    return float(f"{x:.4g}")


def detect(ctx: PairContext) -> list[Observation]:
    fit = ctx.value_fit
    if fit is None:
        return []
    if fit.model == "presets" and fit.presets and set(fit.presets) != {"raw", "unit"}:
        train_p, serve_p = fit.presets
        evidence = {"train_preset": ALIASES.get(train_p, train_p), "serve_preset": ALIASES.get(serve_p, serve_p)}
        return [
            Observation(
                "normalization", Severity.MAJOR, "serve", evidence,
                f"train matches {evidence['train_preset']} ({PRESETS[train_p].description}); "
                f"serve matches {evidence['serve_preset']} ({PRESETS[serve_p].description}).",
                f"Use the training preset in serving: {evidence['train_preset']}.",
                fit.baseline, repair=("values",),
            )
        ]
    if fit.model not in ("affine", "channel-affine"):
        return []
    evidence = {"slope": [_r(a) for a in fit.slope], "offset": [_r(b) for b in fit.offset]}
    return [
        Observation(
            "normalization", Severity.MAJOR, "serve", evidence,
            "serve = slope · train + offset per channel: mean/std normalization differs between the pipelines.",
            "Apply the training pipeline's mean/std (or preprocess_input mode) in serving, exactly once.",
            fit.baseline, merge_on=(), repair=("values",),
        )
    ]
