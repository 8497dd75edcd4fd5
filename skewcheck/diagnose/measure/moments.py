"""Moments of a tensor pair, and the residual bounds of every value fit they give in closed form.

The value fit (fit.py) tries a permutation, a factor, an affine and a per-channel affine map under
every channel order; least squares has closed forms in the pair's means and covariances, so most
candidates are ruled out from :func:`residual_bounds` without touching the pixels again.
"""

from __future__ import annotations

import math

import numpy as np


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


class Moments:
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


def residual_bounds(
    m: Moments, perms: list[tuple[int, ...]], models: tuple[str, ...]
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
