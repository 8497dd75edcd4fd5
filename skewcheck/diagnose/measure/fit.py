"""Fit a value transform that maps the train tensor onto the serve tensor.

The detectors for ``scale``, ``normalization`` and ``channel-order`` read one shared fit: try the
simplest explanation first (channel permutation alone, then a global factor, a global affine map,
a per-channel affine map) and accept the first that explains the difference.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from skewcheck.comparison.metrics import CHUNK, row_blocks
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


MIN_PADDING = 2  # rows or columns of constant padding that count as a padded region


def padding(train: np.ndarray, serve: np.ndarray) -> tuple[int, int] | None:
    """(rows, columns) of the content when the bottom rows and/or right columns of both tensors
    (H×W or H×W×C) hold one constant value, the same on both sides; None when there is none."""
    if train.shape != serve.shape or train.ndim not in (2, 3) or min(train.shape[:2]) < 2 * MIN_PADDING:
        return None
    value = train[-1, -1]
    if not (_edge_equal(train[-1], value) and _edge_equal(serve[-1], value)) and not (
        _edge_equal(train[:, -1], value) and _edge_equal(serve[:, -1], value)
    ):
        return None  # neither the bottom row nor the right column is padding: no padded band
    same = (train == serve) & (train == value)
    if same.ndim == 3:
        same = same.all(axis=-1)
    h, w = same.shape
    cols = w - _trailing(same.all(axis=0))
    rows = h - _trailing(same[:, :cols].all(axis=1)) if cols > 0 else h
    if cols == w and rows == h:  # no padding; else the bottom band alone
        return None
    if w - cols < MIN_PADDING:
        cols = w
        rows = h - _trailing(same.all(axis=1))
    if h - rows < MIN_PADDING:
        rows = h
    if (rows, cols) == (h, w) or rows < MIN_PADDING or cols < MIN_PADDING:
        return None
    return rows, cols


def pad_box(x: np.ndarray) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Where one tensor (H×W or H×W×C) is padded: ((top, bottom, left, right) of the content, the
    pad value per channel) when whole rows and/or columns at its edges hold one constant value,
    on any side (right/bottom pad, centred letterbox, top/left); None when no edge is padded."""
    if x.ndim not in (2, 3) or min(x.shape[:2]) < 2 * MIN_PADDING:
        return None
    h, w = x.shape[:2]
    best: tuple[int, tuple[int, int, int, int], np.ndarray] | None = None
    edges = (x[0], x[-1], x[:, 0], x[:, -1])
    for corner in (x[-1, -1], x[0, 0], x[0, -1], x[-1, 0]):
        if not any(_edge_equal(edge, corner) for edge in edges):
            continue  # no whole edge row or column holds this value: nothing padded with it
        same = x == corner
        if same.ndim == 3:
            same = same.all(axis=-1)
        cols, rows = same.all(axis=0), same.all(axis=1)
        left, right = _leading(cols), _trailing(cols)
        if left + right >= w:
            continue  # a constant image: nothing tells content from padding
        top, bottom = _leading(rows), _trailing(rows)
        box = (top, h - bottom, left, w - right)
        area = h * w - (box[1] - box[0]) * (box[3] - box[2])
        if area and (best is None or area > best[0]):
            best = (area, box, np.atleast_1d(np.asarray(corner, dtype=np.float64)).copy())
    if best is None:
        return None
    top, bottom, left, right = best[1]
    if bottom - top < MIN_PADDING or right - left < MIN_PADDING:
        return None
    return best[1], best[2]


def _edge_equal(edge: np.ndarray, value: np.ndarray) -> bool:
    """Every pixel of one edge row or column equals ``value`` (a pixel)."""
    return bool(np.all(edge == value))


def common_pad_box(train: np.ndarray, serve: np.ndarray) -> tuple[int, int, int, int] | None:
    """The content box when both sides pad the same region, each with its own constant."""
    if train.shape != serve.shape:
        return None
    t, s = pad_box(train), pad_box(serve)
    if t is None or s is None or t[0] != s[0]:
        return None
    return t[0]


def _leading(flags: np.ndarray) -> int:
    """How many of ``flags`` are true at its start."""
    false = np.flatnonzero(~flags)
    return len(flags) if false.size == 0 else int(false[0])


def _trailing(flags: np.ndarray) -> int:
    """How many of ``flags`` are true at its end."""
    false = np.flatnonzero(~flags)
    return len(flags) if false.size == 0 else len(flags) - 1 - int(false[-1])


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

    moments = _Moments(tc, sc)
    preset_fit = _fit_presets(tc, sc, baseline, spread, moments) if channels == 3 and tc.size >= 48 else None

    # a channel with no texture on either side makes affine fits meaningless (any slope fits)
    flat = (moments.std_t <= 0.01 * (moments.ptp_t or 1.0)) | (moments.std_s <= 0.01 * (moments.ptp_s or 1.0))
    models = ("permutation", "scale") if flat.any() else ("permutation", "scale", "affine", "channel-affine")
    # Every candidate's residual from the pair's first and second moments (a few 3×3 matrices): the
    # exact fit (and its acceptance) runs only on candidates these bounds cannot rule out, so the
    # outcome is the one of fitting them all in turn, at a fraction of the cost.
    bounds = _residual_bounds(moments, perms, models)
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


def stacked_moments(blocks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(raw, mean, cov)`` of the N×k column blocks side by side, from one pass over the pixels (one
    product): ``raw[i, j]`` is the mean of column i times column j, its last row and column those of
    a column of ones (the means); ``mean`` and ``cov`` are over the blocks' columns."""
    stacked = np.empty((blocks[0].shape[0], sum(b.shape[1] for b in blocks) + 1))
    at = 0
    for block in blocks:
        stacked[:, at : at + block.shape[1]] = block
        at += block.shape[1]
    stacked[:, -1] = 1.0
    raw = stacked.T @ stacked / stacked.shape[0]
    mean = raw[-1, :-1]
    return raw, mean, raw[:-1, :-1] - np.outer(mean, mean)


class _Moments:
    """First and second moments of a pair (N×C train, N×C serve): what the preset, bound and
    flatness checks read."""

    def __init__(self, tc: np.ndarray, sc: np.ndarray) -> None:
        c = tc.shape[1]
        self.raw, mean, cov = stacked_moments([tc, sc])  # raw's last row and column (2c): the ones
        self.mt, self.ms = mean[:c], mean[c:]
        self.gram, self.cross = cov[:c, :c], cov[:c, c:]  # train covariances; cross[i, c]: train i, serve c
        self.vs = np.maximum(cov.diagonal()[c:], 0.0)  # serve variances
        self.std_t, self.std_s = np.sqrt(np.maximum(cov.diagonal()[:c], 0.0)), np.sqrt(self.vs)
        self.t_min, self.t_max = tc.min(axis=0), tc.max(axis=0)
        s_min, s_max = sc.min(axis=0), sc.max(axis=0)
        self.ptp_t = float(self.t_max.max() - self.t_min.min())
        self.ptp_s = float(s_max.max() - s_min.min())
        self.size = float(
            max(np.abs(self.t_min).max(), np.abs(self.t_max).max(), np.abs(s_min).max(), np.abs(s_max).max())
        )
        self.any_train = bool(np.any(self.t_min != 0) or np.any(self.t_max != 0))


def _mean(values: list[float]) -> float:
    total = -0.0
    for v in values:
        total += v
    return total / len(values)


def _residual_bounds(
    m: _Moments, perms: list[tuple[int, ...]], models: tuple[str, ...]
) -> dict[str, list[tuple[float, float]]]:
    """Per model, per permutation: bounds (low, high) on the residual ``_fit_one`` would find.

    Least squares has closed forms in the moments (means, covariances) of the two tensors, so
    no candidate is applied to the pixels. The moments are rounded differently from the direct
    fit; the bounds allow 1e-9 of the tensors' squared magnitude for that, a thousand times
    more than float64 rounding over the sampled pixels can make. ``(inf, inf)`` where
    ``_fit_one`` returns no fit.
    """
    # In Python floats: a handful of numbers per candidate, where numpy's per-call cost dominated.
    # The same operations in the same order as numpy's on these few elements (its sums of fewer than
    # 8 run left to right from -0.0), so the bounds are the ones numpy computed.
    channels = m.mt.shape[0]
    mt, ms, vs, gd = m.mt.tolist(), m.ms.tolist(), m.vs.tolist(), m.gram.diagonal().tolist()
    cross, size = m.cross.tolist(), m.size
    err = 4e-9 * size * size + 1e-300  # on a mean square
    direct = 1e-12 * size  # the direct fit's own rounding, on the RMS
    cs = range(channels)

    def bounds(mse: float, scale: float = 1.0) -> tuple[float, float]:
        e = err * scale
        return (
            max(math.sqrt(max(mse - e, 0.0)) - direct * scale, 0.0),
            math.sqrt(max(mse + e, 0.0)) + direct * scale,
        )

    identity = tuple(cs)
    ms2 = _mean([vs[c] + ms[c] * ms[c] for c in cs])  # mean of serve squared
    t2 = [gd[c] + mt[c] * mt[c] for c in cs]  # per train channel: mean of its square
    out: dict[str, list[tuple[float, float]]] = {model: [] for model in models}
    for perm in perms:
        xcov = [cross[perm[c]][c] for c in cs]  # covariance of serve channel c with train channel perm[c]
        tps = _mean([xcov[c] + mt[perm[c]] * ms[c] for c in cs])  # mean of train[perm] · serve
        for model in models:
            if model == "permutation":
                if perm == identity:
                    out[model].append((math.inf, math.inf))
                    continue
                dev = [ms[c] - mt[perm[c]] for c in cs]
                out[model].append(bounds(_mean([vs[c] + gd[perm[c]] - 2 * xcov[c] + dev[c] * dev[c] for c in cs])))
            elif model == "scale":
                denom = _mean(t2)
                if not m.any_train:  # _fit_one's no-fit case
                    out[model].append((math.inf, math.inf))
                    continue
                if denom == 0:  # underflow: not bounded here
                    out[model].append((0.0, math.inf))
                    continue
                k = tps / denom
                out[model].append(bounds(ms2 - k * tps, 1.0 + k * k))
            elif model == "affine":
                xm, ym = _mean(mt), _mean(ms)
                dx, dy = [mt[c] - xm for c in cs], [ms[c] - ym for c in cs]
                var_x = _mean([gd[c] + dx[c] * dx[c] for c in cs])
                var_y = _mean([vs[c] + dy[c] * dy[c] for c in cs])
                cov = _mean([xcov[c] + dx[perm[c]] * dy[c] for c in cs])
                if var_x == 0:
                    out[model].append((0.0, math.inf))  # fit_line's constant case: not bounded here
                    continue
                a = cov / var_x
                out[model].append(bounds(var_y - cov * cov / var_x, 1.0 + a * a))
            else:  # channel-affine
                var_t = [gd[perm[c]] for c in cs]
                if any(v == 0 for v in var_t):
                    out[model].append((0.0, math.inf))
                    continue
                slopes = [xcov[c] / var_t[c] for c in cs]
                out[model].append(
                    bounds(_mean([vs[c] - xcov[c] * slopes[c] for c in cs]), 1.0 + max(a * a for a in slopes))
                )
    return out


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


def _fit_presets(t: np.ndarray, s: np.ndarray, baseline: float, spread: float, moments: _Moments) -> ValueFit | None:
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
