"""color-conversion: both tensors are gray, made from the colour file with other channel weights or by another library.

Cause: another RGB → gray conversion. Pillow ``convert("L")``, ``cv2.cvtColor(COLOR_RGB2GRAY)``
and ``tf.image.rgb_to_grayscale`` weigh R, G, B by BT.601 (0.299, 0.587, 0.114); an RGB decode
handed to ``cv2.cvtColor(COLOR_BGR2GRAY)`` applies those weights to B, G, R; video paths use BT.709
(0.2126, 0.7152, 0.0722); quick code averages the channels. With the same BT.601 weights the
libraries still round their own way (skewcheck/diagnose/detectors/gray_library.py): Pillow in 16-bit fixed
point, ``(R·19595 + G·38470 + B·7471 + 0x8000) >> 16``; OpenCV on uint8 in fixed point with its
own coefficients (4.x/5: 15-bit); TensorFlow in float32 with (0.2989, 0.587, 0.114), truncated back
to uint8. Pillow and OpenCV disagree by one gray level on a fraction of a percent of the pixels,
TensorFlow and either of them on about a quarter. Evidence: re-rendering the original file at the
tensor size (with the resize method each side matches) under each convention, the one each side
matches, and the weights fitted to each side (R, G, B, summing to 1). Between libraries with the
same weights (``cause: gray library``): the library each side matches (the file converted by each
library before or after each resize, up to an affine value map; ``train_render`` /
``serve_render``), the share of each side's pixels its library reproduces exactly (``train_exact``
/ ``serve_exact``) and the share on which the two libraries' renderings of the file disagree
(``libraries_disagree``); a side two libraries reproduce alike on an image takes the library the
run told it apart by on others (``train_candidates`` until one did). Such a finding is ``info``
when it moves the tensor by under 0.1 gray level on average, ``minor`` under 2, and is graded by
what re-converting with the other library buys through the model. Fix: one conversion on
both sides. Between 3-channel tensors (skewcheck/diagnose/detectors/color_roundtrip.py): gray replicated to
three channels on one side against true colour (evidence: the gray weights fitted from the colour
side's channels), and a YCbCr / YUV round trip (``cv2.COLOR_RGB2YUV`` and back, Pillow
``convert("YCbCr")`` and back) on one side only (evidence: the round trip each side matches, after
the resize or at decode); that search settles: when the first 16 images it ran on show no round
trip, the rest are not re-rendered (``summary.diagnosis.settled``). The side is ``unknown``
(either convention can be the trained one) until labels tell.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.fit import fit_line
from skewcheck.diagnose.measure.rerender import MORE_RESIZERS
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.run_state import FitFirst, per_side
from skewcheck.findings import Observation, Severity


@dataclass
class ColorConversionState:
    """Per side, fitted on the first images (every candidate tried there, later ones use each side's
    usual one): the resizer of the gray conversion, the one the round trips are rendered with
    (color_roundtrip.py), and the rendering of the gray library (gray_library.py)."""

    resizer: dict[str, FitFirst] = field(default_factory=lambda: per_side("gray conversion resizer", 8))
    round_trip_resizer: dict[str, FitFirst] = field(default_factory=lambda: per_side("round-trip resizer", 6))
    gray_library_how: dict[str, FitFirst] = field(default_factory=lambda: per_side("gray library rendering", 8))
    gray_library_told: dict[str, list[str]] = field(default_factory=lambda: {"train": [], "serve": []})


WEIGHTS: dict[str, tuple[float, float, float]] = {  # applied to R, G, B of the decoded file
    "bt601": (0.299, 0.587, 0.114),
    "bt601-on-bgr": (0.114, 0.587, 0.299),
    "bt709": (0.2126, 0.7152, 0.0722),
    "mean": (1 / 3, 1 / 3, 1 / 3),
}
WHERE = {
    "bt601": 'BT.601 on RGB: Pillow convert("L"), cv2.COLOR_RGB2GRAY, tf.image.rgb_to_grayscale',
    "bt601-on-bgr": "BT.601 weights on B, G, R: an RGB decode passed to cv2.COLOR_BGR2GRAY",
    "bt709": "BT.709 luma (skimage.color.rgb2gray, video paths)",
    "mean": "the plain channel average (rgb.mean(-1))",
}


def largest_gray_shift(a: str, b: str) -> float:
    """The most two gray weightings can differ on one pixel, as a share of the range: on a pure
    colour, the sum of the weights one gives more than the other (BT.601 on RGB against on BGR:
    0.185, on a pure red or blue). Where it reaches the gross threshold (1/8), this cause alone can
    move a saturated image that far (skewcheck.attribution.damage)."""
    diff = np.subtract(WEIGHTS[a], WEIGHTS[b])
    return round(float(max(diff[diff > 0].sum(), -diff[diff < 0].sum())), 4)


CLEAR = 0.6  # a side's convention must leave at most this share of what the other side's leaves
EXPLAINS = 0.5  # and the pair of conventions must explain at least half of the pair's difference
MAX_PIXELS = 4_000_000


def gray_of(tensor: np.ndarray | None) -> np.ndarray | None:
    """A 1-channel tensor (H×W×1 or H×W, either channel axis position) as H×W float64, else None."""
    if tensor is None or not np.issubdtype(np.asarray(tensor).dtype, np.number):
        return None
    t = np.asarray(tensor, dtype=np.float64)
    if t.ndim == 3 and t.shape[-1] == 1:
        t = t[..., 0]
    elif t.ndim == 3 and t.shape[0] == 1:
        t = t[0]
    return t if t.ndim == 2 and min(t.shape) >= 2 else None


def _residual(x: np.ndarray, candidate: np.ndarray) -> tuple[float, float, float]:
    """(relative RMS left, slope, offset) of the affine fit x ≈ a·candidate + b."""
    from skewcheck.diagnose.measure.fit import fit_line

    a, b = fit_line(candidate.ravel(), x.ravel())
    left = float(np.sqrt(np.mean((x - (a * candidate + b)) ** 2)))
    return left / (float(x.std()) or 1.0), a, b


def fitted_weights(x: np.ndarray, render: np.ndarray) -> tuple[float, float, float] | None:
    """Least-squares R, G, B weights (normalised to sum 1) with x ≈ render · w + b."""
    design = np.column_stack([render.reshape(-1, 3), np.ones(x.size)])
    coef, *_ = np.linalg.lstsq(design, x.ravel(), rcond=None)
    w = coef[:3]
    total = float(w.sum())
    if abs(total) < 1e-12:
        return None
    return tuple(round(float(v / total), 3) for v in w)  # type: ignore[return-value]


def _render(ctx: PairContext, rgb: np.ndarray, name: str, hw: tuple[int, int]) -> np.ndarray:
    from skewcheck.diagnose.measure.rerender import RESIZERS, TF_RESIZERS

    def make() -> np.ndarray:
        return rgb.astype(np.float64) if rgb.shape[:2] == hw else {**RESIZERS, **TF_RESIZERS}[name](rgb, hw)

    return ctx.memo(("color_conversion.render", name, hw), make)


def _best(ctx: PairContext, x: np.ndarray, rgb: np.ndarray, resizers: tuple[str, ...]) -> dict[str, tuple[float, str]]:
    """Per convention: (relative residual, resizer) of its best rendering for tensor ``x``."""
    out: dict[str, tuple[float, str]] = {}
    hw = x.shape[:2]
    for resizer in resizers:
        render = _render(ctx, rgb, resizer, hw)
        for name, w in WEIGHTS.items():
            score = _residual(x, render @ np.array(w))[0]
            if name not in out or score < out[name][0]:
                out[name] = (score, resizer)
    return out


def detect(ctx: PairContext) -> list[Observation]:
    if not ctx.both_ok or ctx.found_kinds & {"orientation", "crop"}:
        return []
    fit, ref = ctx.value_fit, ctx.reference
    if fit is not None and fit.model in ("affine", "channel-affine") and ref is not None:
        return _replicated_under_value_fit(ctx)
    if fit is None or fit.explained or ref is None:
        return []  # equal, or a value map (scale, normalization) explains the pair
    t, s = gray_of(ctx.train.tensor), gray_of(ctx.serve.tensor)
    if t is None or s is None:
        return _three_channels(ctx)
    if t.shape != s.shape:
        return []
    rgb = ref.rgb_oriented
    if rgb is None or rgb.ndim != 3 or rgb.shape[0] * rgb.shape[1] > MAX_PIXELS:
        return []
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
        return []  # a gray file: every weighting gives the same picture
    fitting = ctx.run.of(ColorConversionState).resizer
    scores = {
        side: _best(ctx, x, rgb, fitting[side].candidates(MORE_RESIZERS)) for side, x in (("train", t), ("serve", s))
    }
    named = {side: min(sc, key=lambda n: sc[n][0]) for side, sc in scores.items()}
    if named["train"] == named["serve"]:
        return _library(ctx, t, s, rgb) if named["train"] == "bt601" else []
    for side, other in (("train", "serve"), ("serve", "train")):
        if scores[side][named[side]][0] > CLEAR * scores[side][named[other]][0]:
            return []  # this side is not clearly told apart from the other's convention
    if not _explains(ctx, t, s, rgb, named, scores):
        return []
    for side in ("train", "serve"):
        fitting[side].chose(scores[side][named[side]][1])
    hw = t.shape
    fitted = {}
    for side, x in (("train", t), ("serve", s)):
        w = fitted_weights(x, _render(ctx, rgb, scores[side][named[side]][1], hw))
        if w is not None:
            fitted[f"{side}_weights"] = list(w)
    stats = ctx.residual_stats
    mean_255 = stats.mean_abs_255 if stats is not None else 0.0
    severity = Severity.MAJOR if mean_255 >= 2 else Severity.MINOR
    evidence: dict[str, object] = {
        "train": named["train"],
        "serve": named["serve"],
        **fitted,
        "largest_shift": largest_gray_shift(named["train"], named["serve"]),
    }
    return [
        Observation(
            "color-conversion",
            severity,
            "unknown",
            evidence,
            f"both tensors are gray but converted with other channel weights: train ≈ {WHERE[named['train']]}; "
            f"serve ≈ {WHERE[named['serve']]} (fitted R, G, B weights: train {fitted.get('train_weights')}, "
            f"serve {fitted.get('serve_weights')}).",
            f"Convert to gray the same way on both sides, as the model was trained (train: {named['train']}, "
            f"serve: {named['serve']}); with OpenCV, pass COLOR_BGR2GRAY only a BGR frame and COLOR_RGB2GRAY an RGB one.",
            min(1.0, mean_255 / 255),
            measures={"mean_abs_255": round(mean_255, 2)},
            merge_on=("train", "serve"),
            repair=("color-conversion",),
        )
    ]


def _library(ctx: PairContext, t: np.ndarray, s: np.ndarray, rgb: np.ndarray) -> list[Observation]:
    """Both sides BT.601: told apart by the library's own rounding (skewcheck/diagnose/detectors/gray_library.py)."""
    from skewcheck.diagnose.detectors import gray_library

    evidence = gray_library.which_library(ctx, t, s, rgb)
    if evidence is None:
        return []
    stats = ctx.residual_stats
    mean_255 = stats.mean_abs_255 if stats is not None else 0.0
    if stats is None or not stats.significant:
        severity = Severity.INFO  # a gray level on a few pixels: named, but nothing a model sees
    else:
        severity = Severity.MAJOR if mean_255 >= 2 else Severity.MINOR
    where = {side: gray_library.named(evidence, side) for side in ("train", "serve")}
    text = (
        f"both tensors are gray with the same BT.601 weights, converted by other libraries: train ≈ {where['train']}, "
        f"serve ≈ {where['serve']} (each library rounds its own way: they disagree by a gray level on "
        f"{evidence['libraries_disagree']:.1%} of this image's pixels)."
    )
    fix = (
        f"Convert to gray with one library on both sides, as the model was trained (train: {where['train']}, "
        f"serve: {where['serve']}), or accept the difference if its measured impact is nil."
    )
    return [
        Observation(
            "color-conversion",
            severity,
            "unknown",
            evidence,
            text,
            fix,
            min(1.0, mean_255 / 255),
            measures={"mean_abs_255": round(mean_255, 3)},
            merge_on=("cause",),
            repair=("color-conversion",),
        )
    ]


def _replicated_under_value_fit(ctx: PairContext) -> list[Observation]:
    """On a nearly gray picture (a 16-px thumbnail, a page) a per-channel affine map fits gray
    replicated against colour too: the replicated side, not the map, is the cause."""
    from skewcheck.diagnose.detectors import color_roundtrip

    found = color_roundtrip.replicated_gray(ctx)
    rgb = ctx.reference.rgb_oriented if ctx.reference is not None else None
    if found is None or rgb is None or rgb.ndim != 3:
        return []
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
        return []  # a gray file: a per-channel map (caffe's mean) makes its channels differ, not a colour decode
    colour = color_roundtrip.hwc3(ctx.serve.tensor if found["_fit"][0] == "train" else ctx.train.tensor)
    if colour is None or _affine_channels(colour):
        return []  # the "colour" side is one gray picture mapped per channel
    return [
        dataclasses.replace(o, supersedes=(*SPEC.supersedes, "normalization", "scale")) for o in _three_channels(ctx)
    ]


def _affine_channels(x: np.ndarray) -> bool:
    """Whether every channel is an affine map of the first (within 2 % of its spread)."""
    base = x[..., 0].ravel().astype(np.float64)
    for c in range(1, x.shape[-1]):
        y = x[..., c].ravel().astype(np.float64)
        a, b = fit_line(base, y)
        if float(np.std(y - (a * base + b))) > 0.02 * max(float(np.std(y)), 1e-12):
            return False
    return True


def _three_channels(ctx: PairContext) -> list[Observation]:
    """Gray replicated to three channels against colour, or a YCbCr/YUV round trip on one side."""
    from skewcheck.diagnose.detectors import color_roundtrip

    evidence = color_roundtrip.replicated_gray(ctx)
    if evidence is not None:
        evidence.pop("_fit", None)
        gray = "train" if evidence["train"] != "colour" else "serve"
        text = (
            f"{gray} gives the model gray replicated to three channels where {'serve' if gray == 'train' else 'train'} "
            f"gives colour (fitted R, G, B weights of the gray: {evidence.get(gray + '_weights')})."
        )
        fix = (
            "Give the model the channels it was trained on: drop convert('L') / cv2.COLOR_GRAY2RGB on the side that "
            "adds it, or convert to gray on both sides (train: "
            + evidence["train"]
            + ", serve: "
            + evidence["serve"]
            + ")."
        )
    else:
        evidence = color_roundtrip.round_trip(ctx)
        if evidence is None:
            return []
        text = (
            f"one side passes the image through a colour-space round trip: train ≈ {evidence['train']}, "
            f"serve ≈ {evidence['serve']} (uint8 rounding and clipping in YCbCr/YUV)."
        )
        fix = (
            f"Convert colour the same way on both sides (train: {evidence['train']}, serve: {evidence['serve']}): "
            "keep the frame in RGB, or make the same round trip in training."
        )
    stats = ctx.residual_stats
    mean_255 = stats.mean_abs_255 if stats is not None else 0.0
    return [
        Observation(
            "color-conversion",
            Severity.MAJOR if mean_255 >= 2 else Severity.MINOR,
            "unknown",
            evidence,
            text,
            fix,
            min(1.0, mean_255 / 255),
            measures={"mean_abs_255": round(mean_255, 2)},
            # one cause, one finding: the weights' name (bt601 or none) varies by image
            merge_on=("cause",) if evidence.get("cause") == "replicated gray" else ("cause", "train", "serve"),
            repair=("color-conversion",),
        )
    ]


def _explains(ctx, t, s, rgb, named, scores) -> bool:
    """Moving serve by train's weighting minus serve's removes most of the pair's difference."""
    repaired = transplant_gray(s, *renders(ctx, rgb, named, scores, s.shape))
    if repaired is None:
        return False
    before = _residual(s, t)[0]
    after = _residual(repaired, t)[0]
    return after <= EXPLAINS * before


def renders(ctx, rgb, named, scores, hw):
    """(train's conversion, serve's conversion) of the file, both at serve's resize method."""
    render = _render(ctx, rgb, scores["serve"][named["serve"]][1], tuple(hw))
    return render @ np.array(WEIGHTS[named["train"]]), render @ np.array(WEIGHTS[named["serve"]])


def transplant_gray(v: np.ndarray, gray_train: np.ndarray, gray_serve: np.ndarray) -> np.ndarray | None:
    """``v`` (H×W serve) plus train's minus serve's conversion, in serve's value convention."""
    if v.shape != gray_serve.shape:
        return None
    _, a, _ = _residual(v, gray_serve)
    return v + a * (gray_train - gray_serve)


def repaired(ctx: PairContext, v: np.ndarray, wanted: set[str]) -> np.ndarray | None:
    """Repair component ``color-conversion``: serve (H×W or H×W×1) re-converted with train's weights."""
    obs = next((o for o in ctx.found if o.kind == "color-conversion"), None)
    ref = ctx.reference
    if obs is None or ref is None or ref.rgb_oriented is None:
        return None
    if obs.evidence.get("cause") == "gray library":
        from skewcheck.diagnose.detectors import gray_library

        g = gray_of(v)
        out = None if g is None else gray_library.repaired(ctx, g, obs.evidence)
        return None if out is None else out.reshape(v.shape)
    if obs.evidence.get("cause") in ("replicated gray", "round trip"):
        from skewcheck.diagnose.detectors import color_roundtrip

        if obs.evidence["cause"] == "round trip":
            return color_roundtrip.repaired_round_trip(ctx, v, obs.evidence)
        found = color_roundtrip.replicated_gray(ctx)
        return None if found is None else color_roundtrip.repaired_replicated(ctx, v, found["_fit"])
    g = gray_of(v)
    if g is None:
        return None
    names = (obs.evidence.get("train"), obs.evidence.get("serve"))
    if not all(n in WEIGHTS for n in names):
        return None
    hw = g.shape
    scores = {}
    for side in ("train", "serve"):
        resizer = ctx.run.of(ColorConversionState).resizer[side].choice or "pil.bilinear"
        scores[side] = {names[0 if side == "train" else 1]: (0.0, resizer)}
    out = transplant_gray(
        g, *renders(ctx, ref.rgb_oriented, dict(zip(("train", "serve"), names, strict=True)), scores, hw)
    )
    return None if out is None else out.reshape(v.shape)


# runs after resize and the decoder detectors, and replaces them on an image it explains: the
# residual another gray weighting leaves sits on coloured edges and looks like resampling.
SPEC = DetectorSpec(
    kinds=("color-conversion",),
    reads=("orientation", "crop", "normalization", "scale"),
    supersedes=("resize", "jpeg-decoder"),
    state=ColorConversionState,
    repairs={"color-conversion": repaired},
)
