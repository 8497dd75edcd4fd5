"""normalization: a per-channel affine map explains serve from train.

Cause: another mean/std (ImageNet vs [-1, 1]), a Keras ``preprocess_input`` of another model
family (caffe vs tf vs torch), or normalization applied twice or not at all. Evidence: the preset
each side matches when both are known conventions, otherwise the fitted slope and offset per
channel. Fix: one preset on both sides. The side is the one outside the model's expected input
range when the model tells, else ``unknown`` until labels tell.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.sides import off_model_range, on_side
from skewcheck.findings import Observation, Severity
from skewcheck.presets import ALIASES, PRESETS

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
        side = off_model_range(ctx)
        return [
            Observation(
                "normalization",
                Severity.MAJOR,
                side,
                evidence,
                f"train matches {evidence['train_preset']} ({PRESETS[train_p].description}); "
                f"serve matches {evidence['serve_preset']} ({PRESETS[serve_p].description}).",
                on_side(
                    side,
                    f"Use the training preset in serving: {evidence['train_preset']}.",
                    f"Use the serving preset in training (or retrain): {evidence['serve_preset']}.",
                    f"Use one preset on both sides: the one the model was trained with "
                    f"({evidence['train_preset']} in train, {evidence['serve_preset']} in serve).",
                ),
                fit.baseline,
                repair=("values",),
            )
        ]
    if fit.model not in ("affine", "channel-affine"):
        return []
    fitted: dict[str, object] = {"slope": [_r(a) for a in fit.slope], "offset": [_r(b) for b in fit.offset]}
    side = off_model_range(ctx)
    return [
        Observation(
            "normalization",
            Severity.MAJOR,
            side,
            fitted,
            "serve = slope · train + offset per channel: mean/std normalization differs between the pipelines.",
            on_side(
                side,
                "Apply the training pipeline's mean/std (or preprocess_input mode) in serving, exactly once.",
                "Apply the serving pipeline's mean/std in training, exactly once (or retrain).",
                "Apply one mean/std (the one the model was trained with) on both sides, exactly once.",
            ),
            fit.baseline,
            merge_on=(),
            repair=("values",),
        )
    ]
