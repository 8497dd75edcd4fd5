"""Fit a value transform that maps the train tensor onto the serve tensor.

The detectors for ``scale``, ``normalization`` and ``channel-order`` read one shared fit: try the
simplest explanation first (channel permutation alone, then a global factor, a global affine map,
a per-channel affine map) and accept the first that explains the difference.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

import numpy as np

from skewcheck.comparison.metrics import CHUNK, row_blocks
from skewcheck.diagnose.measure.moments import Moments, residual_bounds
from skewcheck.diagnose.measure.pad_box import common_pad_box, padding
from skewcheck.presets import PRESETS

# A transform "explains" the pair when what it leaves is below this fraction of the difference it
# started from, or negligible next to the serve tensor's own spread.
EXPLAINED_FRACTION = 0.05
SAMPLE_PIXELS = 16_384  # pixels the value fits look at (an even stride over the tensor)
PARTIAL = 0.5  # a channel permutation that leaves at most this share of the residual is a cause
NEGLIGIBLE = 1e-3

NAMED_FACTORS = {
    "255": 255.0,
    "1/255": 1 / 255,
    "127.5": 127.5,
    "1/127.5": 1 / 127.5,
    "2": 2.0,
    "1/2": 0.5,
    "256": 256.0,
    "1/256": 1 / 256,
    "65535": 65535.0,
    "1/65535": 1 / 65535,
    "257": 257.0,
    "1/257": 1 / 257,
}


@dataclass(frozen=True)
class ValueFit:
    # "identical" | "permutation" | "scale" | "affine" | "channel-affine" | "presets" | "unexplained"
    # | "partial" (a channel permutation explains part of the difference, something else the rest)
    model: str
    permutation: tuple[int, ...] | None = None  # serve channel c = train channel permutation[c]
    factor: float | None = None
    slope: tuple[float, ...] = ()
    offset: tuple[float, ...] = ()
    residual: float = 0.0  # RMS left after the transform
    baseline: float = 0.0  # RMS of serve - train
    presets: tuple[str, str] | None = None  # (train preset, serve preset) when both are named ones
    notes: list[str] = field(default_factory=list)
    # (rows, columns) of the content when the fit is of the content only: the rest (right and
    # bottom) is a constant padding equal on both sides, which the transform leaves as it is
    content: tuple[int, int] | None = None
    # (top, bottom, left, right) rows/columns of the content when each side pads the same region
    # with its own constant (e.g. padded before normalizing on one side, after on the other):
    # the transform is fitted and applied on the content only, the padding left as it is
    box: tuple[int, int, int, int] | None = None

    @property
    def explained(self) -> bool:
        return self.model not in ("unexplained", "identical")

    def apply(self, train: np.ndarray) -> np.ndarray:
        """The serve tensor this fit predicts from ``train`` (train itself when unexplained)."""
        out = self._apply(train)
        return self.keep_padding(out, train)

    def apply_rows(self, train: np.ndarray, start: int, stop: int) -> np.ndarray:
        """``apply(train)[start:stop]``, from those rows of ``train`` alone (the transform is per pixel)."""
        block = train[start:stop]
        return self.keep_padding(self._apply(block), block, start)

    def keep_padding(self, out: np.ndarray, source: np.ndarray, start: int = 0) -> np.ndarray:
        """``out`` with the padding region (when the fit is of the content only) taken from ``source``;
        both may be the rows from ``start`` on of the tensors."""
        box = self.content_box
        if box is None or out.shape != source.shape or out.ndim < 2:
            return out
        top, bottom, left, right = box
        out = out.copy()
        rows = np.arange(start, start + out.shape[0])
        outside = (rows < top) | (rows >= bottom)
        out[outside] = source[outside]
        out[:, :left], out[:, right:] = source[:, :left], source[:, right:]
        return out

    @property
    def content_box(self) -> tuple[int, int, int, int] | None:
        """(top, bottom, left, right) of the fitted content, when the fit is of the content only."""
        if self.box is not None:
            return self.box
        if self.content is not None:
            return (0, self.content[0], 0, self.content[1])
        return None

    def _apply(self, train: np.ndarray) -> np.ndarray:
        t = train.astype(np.float64)
        if self.model in ("identical", "unexplained"):
            return t
        if self.model == "presets" and self.presets:
            return PRESETS[self.presets[1]].apply(PRESETS[self.presets[0]].invert(t))
        if self.permutation is not None:
            t = t[..., list(self.permutation)]
        if self.model == "scale" and self.factor is not None:
            return self.factor * t
        if self.model in ("affine", "channel-affine", "partial"):
            return t * np.array(self.slope) + np.array(self.offset)
        return t


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def _accept(residual: float, baseline: float, spread: float) -> bool:
    return residual <= EXPLAINED_FRACTION * baseline or residual <= NEGLIGIBLE * max(spread, 1e-12)


def named_factor(k: float) -> str | None:
    for name, value in NAMED_FACTORS.items():
        if abs(k - value) <= 0.005 * value:
            return name
    return None


def fit_values(train: np.ndarray, serve: np.ndarray) -> ValueFit:
    """``train`` and ``serve`` have equal shapes, channels last when there are 3 or 4 of them.

    When the whole tensor is not explained and both sides end in the same constant padding (an
    aspect-kept, right- or bottom-padded input), the content alone is fitted: a normalization
    applied before padding then reads as one normalization, not as an unexplained difference.
    """
    fit = _fit_whole(train, serve)
    if fit.model in ("unexplained", "partial"):
        content = padding(train, serve)
        if content is not None:
            rows, cols = content
            inner = _fit_whole(train[:rows, :cols], serve[:rows, :cols])
            if inner.explained and inner.model != "partial":
                note = f"fitted on the content ({cols}×{rows}); the padding is equal on both sides"
                return dataclasses.replace(inner, content=content, notes=[*inner.notes, note])
        box = common_pad_box(train, serve)
        if box is not None:
            top, bottom, left, right = box
            inner = _fit_whole(train[top:bottom, left:right], serve[top:bottom, left:right])
            if inner.model != "partial":
                note = (
                    f"fitted on the content ({right - left}×{bottom - top}); each side pads the rest with its own value"
                )
                return dataclasses.replace(inner, box=box, notes=[*inner.notes, note])
    return fit


def _fit_whole(train: np.ndarray, serve: np.ndarray) -> ValueFit:
    baseline, spread = _baseline_and_spread(train, serve)
    if baseline <= NEGLIGIBLE * max(spread, 1e-12) or baseline == 0:
        return ValueFit("identical", residual=baseline, baseline=baseline)

    channels = train.shape[-1] if train.ndim >= 3 and train.shape[-1] in (3, 4) else 1
    perms: list[tuple[int, ...]] = list(itertools.permutations(range(channels))) if channels > 1 else [(0,)]
    tc, sampled = _pixels(train, channels)
    sc, _ = _pixels(serve, channels)
    if sampled:  # the fits are global: an even sample of pixels decides as well
        baseline, spread = rms(sc - tc), float(np.std(sc))

    moments = Moments(tc, sc)
    preset_fit = _fit_presets(tc, sc, baseline, spread, moments) if channels == 3 and tc.size >= 48 else None

    # a channel with no texture on either side makes affine fits meaningless (any slope fits)
    flat = (moments.std_t <= 0.01 * (moments.ptp_t or 1.0)) | (moments.std_s <= 0.01 * (moments.ptp_s or 1.0))
    models = ("permutation", "scale") if flat.any() else ("permutation", "scale", "affine", "channel-affine")
    # Every candidate's residual from the pair's first and second moments (a few 3×3 matrices): the
    # exact fit (and its acceptance) runs only on candidates these bounds cannot rule out, so the
    # outcome is the one of fitting them all in turn, at a fraction of the cost.
    bounds = residual_bounds(moments, perms, models)
    limit = max(EXPLAINED_FRACTION * baseline, NEGLIGIBLE * max(spread, 1e-12))
    for model in models:
        for perm, (low, _) in zip(perms, bounds[model], strict=True):
            if low > limit * (1 + _REL_SLACK):
                continue  # its exact residual is above the limit: not accepted, skip the fit
            fit = _fit_one(model, tc[:, list(perm)], sc, perm, baseline)
            if fit is not None and _accept(fit.residual, baseline, spread):
                if preset_fit is not None and model in ("affine", "channel-affine", "scale"):
                    return preset_fit
                return fit
    if preset_fit is not None:
        return preset_fit
    best = _fit_one("channel-affine", tc, sc, perms[0], baseline)
    unexplained = ValueFit("unexplained", residual=best.residual if best else baseline, baseline=baseline)
    if best is None or len(perms) == 1 or flat.any():
        return unexplained
    # Two causes at once (BGR *and* another resize): a permutation that halves what is left is a
    # cause of its own; what remains after it goes to the residual detectors.
    swapped_bounds = bounds["channel-affine"][1:]
    if min(low for low, _ in swapped_bounds) > PARTIAL * best.residual * (1 + _REL_SLACK):
        return unexplained  # no permutation can halve what is left
    lowest = min(high for _, high in swapped_bounds)  # the smallest exact residual is at most this
    near = [
        p for p, (low, _) in zip(perms[1:], swapped_bounds, strict=True) if low <= lowest
    ]  # the others cannot be it
    swapped = [f for p in near for f in [_fit_one("channel-affine", tc[:, list(p)], sc, p, baseline)] if f]
    partial = min(swapped, key=lambda f: f.residual)
    if partial.residual <= PARTIAL * best.residual:
        return dataclasses.replace(partial, model="partial")
    return unexplained


_REL_SLACK = 1e-6


def _baseline_and_spread(train: np.ndarray, serve: np.ndarray) -> tuple[float, float]:
    """RMS of ``serve - train`` and the standard deviation of ``serve``, in float64 blocks: a tensor
    of up to ``metrics.CHUNK`` elements is one block (the whole-array formulas), a larger one is
    never copied whole to float64 (the sums add up block by block, two passes for the deviation)."""
    if serve.size == 0:
        return 0.0, 0.0
    if serve.size <= CHUNK:
        t, s = next(row_blocks(train, serve))
        return rms(s - t), float(np.std(s))
    n = serve.size
    sum_sq, total = np.float64(0.0), np.float64(0.0)
    for t, s in row_blocks(train, serve):
        np.subtract(s, t, out=t)
        sum_sq += np.sum(t * t)
        total += np.sum(s)
    mean, var = total / n, np.float64(0.0)
    for (s,) in row_blocks(serve):
        s -= mean
        var += np.sum(s * s)
    return float(np.sqrt(sum_sq / n)), float(np.sqrt(var / n))


def _pixels(x: np.ndarray, channels: int) -> tuple[np.ndarray, bool]:
    """The tensor as N×``channels`` float64 rows (pixels in C order), and whether they are an even
    sample of at most SAMPLE_PIXELS (every step-th pixel) rather than all: picked by index, so
    neither a float64 copy of the whole tensor nor a flattened copy of a non-contiguous view is made."""
    n = x.size // channels
    if n <= SAMPLE_PIXELS:
        return x.reshape(-1, channels).astype(np.float64), False
    step = -(-n // SAMPLE_PIXELS)
    where = np.unravel_index(np.arange(0, n, step), x.shape if channels == 1 else x.shape[:-1])
    rows = x[where] if channels == 1 else x[tuple(where) + (slice(None),)]
    return rows.reshape(-1, channels).astype(np.float64), True


def _fit_one(model: str, tp: np.ndarray, sc: np.ndarray, perm: tuple[int, ...], baseline: float) -> ValueFit | None:
    identity = perm == tuple(range(len(perm)))
    if model == "permutation":
        if identity:
            return None
        return ValueFit("permutation", permutation=perm, residual=rms(sc - tp), baseline=baseline)
    if model == "scale":
        denom = float(np.vdot(tp, tp))
        if denom == 0:
            return None
        k = float(np.vdot(tp, sc)) / denom
        return ValueFit(
            "scale", permutation=None if identity else perm, factor=k, residual=rms(sc - k * tp), baseline=baseline
        )
    if model == "affine":
        a, b = fit_line(tp.reshape(-1), sc.reshape(-1))
        return ValueFit(
            "affine",
            permutation=None if identity else perm,
            slope=(a,),
            offset=(b,),
            residual=rms(sc - (a * tp + b)),
            baseline=baseline,
        )
    slopes, offsets, pred = [], [], np.empty_like(sc)
    for c in range(tp.shape[1]):
        a, b = fit_line(tp[:, c], sc[:, c])
        slopes.append(a)
        offsets.append(b)
        pred[:, c] = a * tp[:, c] + b
    return ValueFit(
        "channel-affine",
        permutation=None if identity else perm,
        slope=tuple(slopes),
        offset=tuple(offsets),
        residual=rms(sc - pred),
        baseline=baseline,
    )


def fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares ``y ≈ a·x + b`` (a constant ``x`` predicts the mean of ``y``)."""
    xm, ym = float(x.mean()), float(y.mean())
    var = float(np.mean((x - xm) ** 2))
    if var == 0:
        return 1.0, ym - xm
    a = float(np.mean((x - xm) * (y - ym))) / var
    return a, ym - a * xm


def _fit_presets(t: np.ndarray, s: np.ndarray, baseline: float, spread: float, moments: Moments) -> ValueFit | None:
    """Name the conventions when serve = P_serve(P_train⁻¹(train)) for two known presets.

    Every preset is per-channel affine, so each pair's prediction is ``A·train[j] + B`` per
    channel and its residual has a closed form in the pair's moments (one 7×7 product for all
    pairs); only the pairs whose closed-form residual is within rounding of the smallest are
    applied to the pixels, and the exact residual decides, as if every pair had been applied.
    """
    raw = moments.raw.tolist()  # raw[i][j]: mean of column i times column j (6: the ones)
    t_min, t_max = moments.t_min, moments.t_max
    size = moments.size or 1.0
    closed: list[tuple[float, str, str]] = []
    for name_t, pt in PRESETS.items():
        std_t, mean_t = np.array(pt.std), np.array(pt.mean)
        low, high = (t_min * std_t + mean_t) / pt.alpha, (t_max * std_t + mean_t) / pt.alpha  # as pt.invert does
        if min(low.min(), high.min()) < -2 or max(low.max(), high.max()) > 257:  # not a plausible image
            continue
        inverse = np.argsort(pt.order).tolist()
        for name_s, ps in PRESETS.items():
            if name_s == name_t:
                continue
            mse = 0.0
            for c in range(3):
                j = inverse[ps.order[c]]  # serve channel c comes from train channel j
                a = pt.std[j] / pt.alpha * ps.alpha / ps.std[c]
                b = (pt.mean[j] / pt.alpha * ps.alpha - ps.mean[c]) / ps.std[c]
                sj, tj = raw[3 + c], raw[j]
                mse += sj[3 + c] - 2 * a * sj[j] - 2 * b * sj[6] + a * a * tj[j] + 2 * a * b * tj[6] + b * b
            closed.append((float(np.sqrt(max(mse / 3, 0.0))), name_t, name_s))
    if not closed:
        return None
    lowest = min(r for r, _, _ in closed)
    slack = 1e-6 * lowest + 1e-6 * size  # the moments' rounding, far above float64's on these sums
    best: tuple[float, str, str] | None = None
    for r, name_t, name_s in closed:  # in the order of the direct search: ties keep the first pair
        if r > lowest + slack:
            continue
        residual = rms(s - PRESETS[name_s].apply(PRESETS[name_t].invert(t)))
        if best is None or residual < best[0]:
            best = (residual, name_t, name_s)
    if best is None or not _accept(best[0], baseline, spread):
        return None
    return ValueFit("presets", presets=(best[1], best[2]), residual=best[0], baseline=baseline)
