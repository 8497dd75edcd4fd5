"""gamma: one side passes the pixel values through a transfer curve the other does not.

Cause: one side only converts sRGB to linear light ("linearize before the network": the IEC
61966-2-1 piecewise curve, as colour-science style code writes it), applies a plain power
(``x ** 2.2``, ``tf.image.adjust_gamma``, ``skimage.exposure.adjust_gamma``, a gamma table through
``cv2.LUT``) or the inverse (linear → sRGB, ``x ** (1 / 2.2)``), with the usual scaling or
normalization on either side. The curve keeps black and white and bends the mid-tones, so no
affine value map explains the pair: without this detector it reads as an unexplained gross
difference.
Evidence: train mapped to [0, 1] by the value preset its range matches (raw, /255, [-1, 1],
ImageNet, caffe), then serve fitted as a per-channel affine map of a curve of it: the sRGB curve
either way, and a power ``x ** γ`` with one γ for every channel (a log grid from 0.2 to 5, then
refined). ``curve`` names the best (``srgb-to-linear``, ``linear-to-srgb`` or ``power``),
``gamma`` the fitted power (2.2-2.3 for an sRGB linearization), ``residual_affine`` and
``residual_curve`` what a per-channel affine map of train and the curve leave (RMS as a share of
serve's spread). Named only where the affine map leaves at least 2 % of the spread, the curve at
most 35 % of what the affine map leaves, and a power is 1.2 or more away from 1 (γ ≥ 1.2 or
≤ 1 / 1.2): resampling, decoders, crops, gray weights and roundings are no function of the pixel
value, and a curve leaves at least half of what they leave. ``applied_by``: the side whose tensor
is no affine map of the file's own pixels (the file resized to the tensor with Pillow bilinear;
the other side must leave at most half as much against it), else ``unknown`` until labels tell.
The search settles: when the first 16 images its curves were fitted on show none, the rest are
not fitted (``summary.diagnosis.settled``).
Fix: apply the same transfer curve on both sides: drop the linearization (or the gamma) on the
side that adds it, or add it in training and retrain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from skewcheck.diagnose import settle
from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity
from skewcheck.presets import PRESETS

READS = ("alpha", "color-profile", "crop", "orientation", "padding")
SEARCH = "gamma curves"  # the settling search (skewcheck/diagnose/settle.py)

SAMPLE = 4_096  # pixels the curves are fitted on (an even grid over the image): three numbers per channel
MIN_AFFINE = 0.02  # the per-channel affine map must leave at least this share of serve's spread…
SHARE = 0.35  # …and the curve at most this share of what the affine map leaves
MIN_GAMMA = 1.2  # a power is a curve when γ ≥ this or ≤ 1 / this
MIN_MIDTONES = 0.1  # share of train's values strictly inside (0.02, 0.98) of its range: a curve bends only those
CLEAR = 0.5  # the side without the curve leaves at most this share of the other's residual against the file
LOOSE = 2.0  # pixel units a preset's inverse may fall outside [0, 255] (rounding, resampling overshoot)
GRID = np.geomspace(0.2, 5.0, 25)  # the powers tried first (14 % apart), then refined around the best
GIVE_UP = 0.6  # no refinement when the best power on the grid leaves this share of the affine residual


def srgb_to_linear(u: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1: sRGB-encoded values in [0, 1] to linear light."""
    return np.where(u <= 0.04045, u / 12.92, ((np.maximum(u, 0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(u: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1: linear light in [0, 1] to sRGB-encoded values."""
    return np.where(u <= 0.0031308, u * 12.92, 1.055 * np.maximum(u, 0.0031308) ** (1 / 2.4) - 0.055)


CURVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "srgb-to-linear": srgb_to_linear,
    "linear-to-srgb": linear_to_srgb,
}
INVERSE = {"srgb-to-linear": linear_to_srgb, "linear-to-srgb": srgb_to_linear}
WHAT = {
    "srgb-to-linear": "sRGB → linear (the IEC 61966-2-1 curve: 'linearize before the network')",
    "linear-to-srgb": "linear → sRGB (the IEC 61966-2-1 encoding curve)",
    "power": "a power curve x ** γ (adjust_gamma, a gamma LUT)",
}


@dataclass(frozen=True)
class CurveFit:
    curve: str  # "srgb-to-linear" | "linear-to-srgb" | "power"
    gamma: float  # the best power, whatever the curve named
    residual_curve: float  # RMS left by the named curve, as a share of serve's spread
    residual_affine: float  # RMS left by a per-channel affine map of train
    train_preset: str  # how train's values were mapped to [0, 1]
    order: tuple[int, ...]  # serve channel c is a curve of train channel order[c]
    slope: tuple[float, ...]  # per serve channel: serve ≈ slope · curve(train) + offset
    offset: tuple[float, ...]
    midtones: float

    @property
    def named(self) -> bool:
        if self.residual_affine < MIN_AFFINE or self.residual_curve > SHARE * self.residual_affine:
            return False
        if self.midtones < MIN_MIDTONES:
            return False
        return self.curve != "power" or abs(math.log(self.gamma)) >= math.log(MIN_GAMMA)


def _pair(ctx: PairContext) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int] | None] | None:
    """(train, serve) channels last, on the content the value fit read, and that content's box."""
    pair = ctx.fitted_pair
    if pair is None:
        return None
    t, s, fit = pair
    if t.ndim == 2:
        t, s = t[..., None], s[..., None]
    if t.ndim != 3 or t.shape[-1] not in (1, 3, 4) or min(t.shape[:2]) < 4:
        return None
    box = fit.content_box
    if box is not None:
        top, bottom, left, right = box
        t, s = t[top:bottom, left:right], s[top:bottom, left:right]
    return t, s, box


def _sampled(x: np.ndarray) -> np.ndarray:
    """An even grid of at most about SAMPLE pixels (H×W×C, every k-th row and column: no copy of the
    whole tensor), as N×C float64 (colour channels only)."""
    c = 1 if x.shape[-1] == 1 else 3
    step = max(1, math.ceil(math.sqrt(x.shape[0] * x.shape[1] / SAMPLE)))
    return x[::step, ::step, :c].reshape(-1, c).astype(np.float64)


def _unit(t: np.ndarray) -> tuple[str, np.ndarray] | None:
    """Train's values in [0, 1] (RGB order): by the preset whose inverse puts them inside 0-255
    with the widest spread (a [0, 1] tensor read as raw pixels spans 1 of the 255)."""
    best: tuple[float, str, np.ndarray] | None = None
    channels = t.shape[1]
    for name, p in PRESETS.items():
        if channels == 3:
            raw = p.invert(t)
        elif len(set(p.mean)) == 1 and len(set(p.std)) == 1:
            raw = (t * p.std[0] + p.mean[0]) / p.alpha
        else:
            continue  # a per-channel preset says nothing of one gray channel
        lo, hi = float(raw.min()), float(raw.max())
        if lo < -LOOSE or hi > 255 + LOOSE:
            continue
        if best is None or hi - lo > best[0]:
            best = (hi - lo, name, raw)
    if best is None or best[0] <= 0:
        return None
    return best[1], np.clip(best[2] / 255.0, 0.0, 1.0)


def _left(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Per-channel least squares y ≈ a·x + b: (RMS left as a share of y's spread, a, b)."""
    xm, ym = x.mean(axis=0), y.mean(axis=0)
    dx, dy = x - xm, y - ym
    vx, vy, cov = (dx * dx).mean(axis=0), (dy * dy).mean(axis=0), (dx * dy).mean(axis=0)
    a = np.divide(cov, vx, out=np.zeros_like(cov), where=vx > 0)
    sse = np.maximum(vy - a * cov, 0.0)
    total = float(vy.sum())
    return (math.sqrt(float(sse.sum()) / total) if total > 0 else 0.0), a, ym - a * xm


def _power(u: np.ndarray, s: np.ndarray, give_up: float) -> tuple[float, float]:
    """(γ, RMS share left) of the best s ≈ a·u**γ + b, one γ for every channel; the grid's best
    alone when it leaves more than ``give_up``."""
    with np.errstate(divide="ignore"):
        logu = np.log(u)

    def left(g: float) -> float:
        return _left(np.exp(g * logu), s)[0]

    scores = [left(g) for g in GRID]
    i = int(np.argmin(scores))
    if scores[i] > give_up:
        return float(GRID[i]), scores[i]
    lo, hi = math.log(GRID[max(i - 1, 0)]), math.log(GRID[min(i + 1, len(GRID) - 1)])
    ratio = (math.sqrt(5) - 1) / 2  # golden-section search on log γ between the grid's neighbours
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = left(math.exp(a)), left(math.exp(b))
    for _ in range(20):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = left(math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = left(math.exp(b))
    g, f = (math.exp(a), fa) if fa < fb else (math.exp(b), fb)
    return (g, f) if f <= scores[i] else (float(GRID[i]), scores[i])


def _prepared(ctx: PairContext) -> tuple[str, np.ndarray, np.ndarray, tuple[int, ...], float, float] | None:
    """Train's sample in [0, 1] and serve's, the channel order that pairs them, what a per-channel
    affine map leaves, and the share of mid-tones: (preset, u, serve, order, affine, midtones)."""
    fit = ctx.value_fit
    if fit is None or fit.model in ("identical", "permutation"):
        return None
    pair = _pair(ctx)
    if pair is None:
        return None
    t, s, _ = pair
    tp, sp = _sampled(t), _sampled(s)
    if tp.shape != sp.shape or tp.shape[0] < 64 or not np.isfinite(tp).all() or not np.isfinite(sp).all():
        return None
    unit = _unit(tp)
    if unit is None:
        return None
    preset, u = unit
    mid = float(np.mean((u > 0.02) & (u < 0.98)))
    orders = [(0, 1, 2), (2, 1, 0)] if u.shape[1] == 3 else [(0,)]
    # serve channel c against train channel order[c]: RGB, or BGR beside the curve
    affine, order = min((_left(u[:, list(o)], sp)[0], o) for o in orders)
    return preset, u[:, list(order)], sp, order, affine, mid


def fit_curve(ctx: PairContext) -> CurveFit | None:
    """The transfer curve that best maps train onto serve (named or not), or None when the pair
    has nothing to fit (equal, other shapes, not numbers, no value preset for train) or an affine
    map leaves too little for any curve to be named."""
    prepared = _prepared(ctx)
    if prepared is None or prepared[4] < MIN_AFFINE:
        return None
    preset, u, sp, order, affine, mid = prepared
    named = {name: _left(f(u), sp)[0] for name, f in CURVES.items()}
    gamma, named["power"] = _power(u, sp, GIVE_UP * affine)
    curve = min(named, key=lambda n: named[n])
    _, a, b = _left(_curve(curve, gamma)(u), sp)
    return CurveFit(curve, gamma, named[curve], affine, preset, order, tuple(a), tuple(b), mid)


def _curve(name: str, gamma: float) -> Callable[[np.ndarray], np.ndarray]:
    return CURVES[name] if name in CURVES else (lambda u: u**gamma)


def _side(ctx: PairContext, box: tuple[int, int, int, int] | None) -> tuple[str, dict[str, float]]:
    """The side whose tensor is no affine map of the file's pixels, and both residuals."""
    from skewcheck.diagnose.measure.reference import affine_residual, to_hwc3
    from skewcheck.diagnose.measure.rerender import RESIZERS

    ref = ctx.reference
    rgb = ref.rgb_oriented if ref is not None else None
    if ref is None or rgb is None or rgb.ndim != 3 or rgb.shape[0] * rgb.shape[1] > 4_000_000:
        return "unknown", {}
    s, _ = ctx.aligned_serve
    sources = [rgb]
    for extra in (ref.composited(255), ref.composited(0), ref.colour_managed_oriented):
        if extra is not None and extra.shape == rgb.shape:
            sources.append(extra)
    left = {}
    for side, tensor in (("train", ctx.train.tensor), ("serve", s)):
        x = to_hwc3(tensor) if tensor is not None else None
        if x is None:
            return "unknown", {}
        gray = bool(np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 1], x[..., 2]))
        # the file framed as the whole tensor, or as the content of a padded box
        views = [x] if box is None else [x, x[box[0] : box[1], box[2] : box[3]]]
        scores = []
        for view in views:
            for src in sources:
                hw = view.shape[:2]
                render = src.astype(np.float64) if src.shape[:2] == hw else RESIZERS["pil.bilinear"](src, hw)
                if gray:
                    render = np.repeat((render @ np.array([0.299, 0.587, 0.114]))[..., None], 3, axis=-1)
                scores.append(affine_residual(view, render))
        left[side] = min(scores)
    measures = {f"{side}_vs_file": round(v, 4) for side, v in left.items()}
    if left["train"] <= CLEAR * left["serve"]:
        return "serve", measures
    if left["serve"] <= CLEAR * left["train"]:
        return "train", measures
    return "unknown", measures


def detect(ctx: PairContext) -> list[Observation]:
    if not ctx.both_ok or ctx.found_kinds & set(READS) or not settle.wanted(ctx.run, SEARCH):
        return []
    found = fit_curve(ctx)
    if found is not None:  # the curves were fitted on this image: the search ran
        settle.ran(ctx.run, SEARCH, found.named)
    if found is None or not found.named:
        return []
    pair = _pair(ctx)
    side, vs_file = _side(ctx, pair[2] if pair is not None else None)
    stats = ctx.residual_stats
    mean_255 = stats.mean_abs_255 if stats is not None else 0.0
    evidence: dict[str, object] = {
        "curve": found.curve,
        "gamma": round(found.gamma, 3),
        "residual_affine": round(found.residual_affine, 4),
        "residual_curve": round(found.residual_curve, 4),
        "applied_by": side,
    }
    relation = f"serve = {found.curve}(train)" if found.curve != "power" else f"serve = train ** {found.gamma:.2f}"
    who = f"{side} applies it" if side != "unknown" else "the file does not tell which side applies it"
    text = (
        f"{relation} up to the value convention: one side passes the pixels through {WHAT[found.curve]} and the "
        f"other does not ({who}; fitted γ {found.gamma:.2f}; the curve leaves {found.residual_curve:.1%} of "
        f"serve's spread where a per-channel affine map leaves {found.residual_affine:.1%})."
    )
    fixes = (
        ("serve", "Remove the transfer curve from serving: decode and scale as training does, no gamma."),
        ("train", "Apply serving's transfer curve in training too (or remove it from training and retrain)."),
    )
    fix = dict(fixes).get(
        side, "Use one transfer curve on both sides: the one the model was trained with (linearize both or neither)."
    )
    return [
        Observation(
            "gamma",
            Severity.MAJOR if mean_255 >= 2 else Severity.MINOR,
            side,
            evidence,
            text,
            fix,
            found.residual_affine,
            measures={"mean_abs_255": round(mean_255, 2), **vs_file},
            merge_on=("curve",),  # γ varies a little by image: one finding per curve
            repair=("gamma",),
            fix_by_side=fixes if side == "unknown" else (),
        )
    ]


def repaired(ctx: PairContext, v: np.ndarray, wanted: set[str]) -> np.ndarray | None:
    """Repair component ``gamma``: the curve undone on serve's values (``v``: channels last, float64,
    train's layout), under serve's own value convention: ``a·f(u) + b`` becomes ``a·u + b``. The
    curve and γ are this image's observation's; only the per-channel ``a``, ``b`` are fitted again."""
    obs = next((o for o in ctx.found if o.kind == "gamma"), None)
    prepared = _prepared(ctx)
    pair = _pair(ctx)
    if obs is None or prepared is None or pair is None:
        return None
    curve, gamma = str(obs.evidence.get("curve")), float(obs.evidence.get("gamma") or 1.0)
    _, u, sp, _, _, _ = prepared
    _, slope, offset = _left(_curve(curve, gamma)(u), sp)
    backward = INVERSE.get(curve) or (lambda z: z ** (1 / gamma))
    box = pair[2]
    out = v.copy()
    x = out if out.ndim == 3 else out[..., None]
    region = x if box is None else x[box[0] : box[1], box[2] : box[3]]
    for c, (a, b) in enumerate(zip(slope.tolist(), offset.tolist(), strict=True)):
        if c >= region.shape[-1] or abs(a) < 1e-12:
            continue
        z = np.clip((region[..., c] - b) / a, 0.0, 1.0)
        region[..., c] = a * backward(z) + b
    return out


# Runs after the re-rendering detectors it reads (a crop, an ICC profile or alpha handled
# another way is no curve) and replaces a resize or decoder reading of the curve's residual.
SPEC = DetectorSpec(
    kinds=("gamma",),
    reads=READS,
    supersedes=("resize", "jpeg-decoder"),
    repairs={"gamma": repaired},
)
