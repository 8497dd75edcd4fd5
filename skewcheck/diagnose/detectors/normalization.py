"""normalization: a per-channel affine map explains serve from train.

Cause: another mean/std (ImageNet vs [-1, 1]), a Keras ``preprocess_input`` of another model
family (caffe vs tf vs torch), normalization applied twice or not at all, or the mean subtracted
and the division by std skipped. Evidence: the preset each side matches when both are known
conventions; the std (serve = train × std per channel) when one side skips the division; otherwise
the fitted slope and offset per channel. Fix: one preset on both sides. The side is the one outside the model's expected input
range when the model tells, else ``unknown`` until labels tell.
"""

from __future__ import annotations

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.fit import named_factor
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.replay import Apply, Candidate, ReplayImage
from skewcheck.diagnose.sides import off_model_range, on_side
from skewcheck.findings import Observation, Severity
from skewcheck.presets import ALIASES, PRESETS, STDS, std_factor

SAMPLE = 200_000  # pixels the per-channel gains are fitted on


def _r(x: float) -> float:
    return float(f"{x:.4g}")


def std_skew(ctx: PairContext) -> tuple[str, str] | None:
    """(preset, "skipped" | "twice") when serve = train × std channel by channel: a pipeline that
    subtracts the mean but skips the division by std (or divides twice). A single fitted factor
    reads this as an odd scale (0.226 ×), one per image; it is a normalization, and one finding.
    """
    fit = ctx.value_fit
    if fit is None or fit.model not in ("scale", "channel-affine"):
        return None
    if fit.model == "scale" and (fit.factor is None or named_factor(fit.factor)):
        return None
    pair = ctx.fitted_pair
    if pair is None:
        return None
    t, s, _ = pair
    box = fit.content_box
    if box is not None and t.ndim >= 2:
        top, bottom, left, right = box
        t, s = t[top:bottom, left:right], s[top:bottom, left:right]
    channels = t.shape[-1] if t.ndim >= 3 and t.shape[-1] in (3, 4) else 1
    step = max(1, t.size // channels // SAMPLE)  # an even sample of pixels: no full-size float64 copies
    tp = t.reshape(-1, channels)[::step, :3].astype(np.float64)
    sp = s.reshape(-1, channels)[::step, :3].astype(np.float64)
    if fit.model == "channel-affine" and np.abs(np.array(fit.offset)).max() > 1e-3 * max(float(sp.std()), 1e-12):
        return None  # an offset too: another normalization, not a skipped std
    perm = list(fit.permutation) if fit.permutation is not None and tp.shape[1] == 3 else list(range(tp.shape[1]))
    tp = tp[:, perm]  # serve channel c = train channel perm[c] (a channel swap is channel-order's finding)
    gains = (tp * sp).sum(0) / np.maximum((tp * tp).sum(0), 1e-30)
    by_train_channel = np.empty_like(gains)
    by_train_channel[perm] = gains
    return std_factor(tuple(float(g) for g in gains)) or std_factor(tuple(float(g) for g in by_train_channel))


def _std_observation(ctx: PairContext, preset: str, how: str) -> Observation:
    std = ", ".join(f"{v:g}" for v in STDS[preset])
    name = ALIASES.get(preset, preset)
    side = off_model_range(ctx)
    skipped = how == "skipped"
    text = (
        f"serve = train × std ({std}) channel by channel: one side subtracts the {name} mean but skips the "
        "division by std, the other divides."
        if skipped
        else f"serve = train ÷ std ({std}) channel by channel: one side divides by the {name} std twice."
    )
    return Observation(
        "normalization",
        Severity.MAJOR,
        side,
        {
            "std": list(STDS[preset]),
            "preset": name,
            "std_division": "one fewer in serve" if skipped else "one more in serve",
        },
        text,
        on_side(
            side,
            f"Divide by the std ({std}) in serving exactly once, as training does."
            if skipped
            else f"Divide by the std ({std}) once in serving, not twice.",
            f"Divide by the std ({std}) in training as serving does (or retrain)."
            if skipped
            else "Use serving's normalization in training (or retrain).",
            f"Divide by the std ({std}) exactly once on both sides (the model's training convention).",
        ),
        ctx.value_fit.baseline if ctx.value_fit else 0.0,
        merge_on=("std_division",),
        repair=("values",),
    )


def detect(ctx: PairContext) -> list[Observation]:
    fit = ctx.value_fit
    if fit is None:
        return []
    std = std_skew(ctx)
    if std is not None:
        return [_std_observation(ctx, *std)]
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


def replay() -> list[Candidate]:
    """The black-box replay's candidates (skewcheck/diagnose/replay.py): the file's pixels under each preset."""
    return [
        Candidate(
            f"preset {name}",
            "normalization",
            {"serve_preset": name},
            f"The serving stack normalizes as {preset.description}: use training's normalization.",
            _preset(name),
        )
        for name, preset in PRESETS.items()
    ]


def _preset(name: str) -> Apply:
    def apply(t: np.ndarray, img: ReplayImage) -> np.ndarray | None:
        raw = img.raw_rgb
        if raw is None or raw.shape != t.shape:
            return None
        out = PRESETS[name].apply(raw)
        scale = float(np.ptp(t)) or 1.0
        return None if float(np.max(np.abs(out - t))) < 1e-3 * scale else out  # train's own convention

    return apply


SPEC = DetectorSpec(kinds=("normalization",), replay=replay)
