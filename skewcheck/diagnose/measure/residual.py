"""What is left between the two tensors once the value convention (scale, presets…) is fitted.

Detectors of resampling, decoding, alpha and colour differences read these statistics: how big
the residual is on a 0-255 scale, and whether it sits on edges (resampling) or is spread evenly
(decoder arithmetic).

The residual is measured in blocks of rows (``metrics.CHUNK`` elements, float64), never as a
full-size float64 copy: a tensor of up to ``CHUNK`` elements is one block (the whole-array
formulas), a larger one gives the same numbers up to float rounding of the sums. On an image of
more than :data:`EDGE_PIXELS` pixels the edge ratio reads an even grid of them (every k-th row
and column, gradients at full resolution): its quantiles are an estimate there, the two means
are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skewcheck.comparison.metrics import CHUNK
from skewcheck.diagnose.measure.fit import ValueFit

EDGE_PIXELS = 4 * 2**20  # pixels the edge ratio reads at most (a 2048×2048 image: all of them)


@dataclass(frozen=True)
class ResidualStats:
    shape: tuple[int, ...]  # of the residual: H×W×C or H×W, channels last (train's layout)
    mean_abs_255: float  # mean |residual| on a 0-255 scale of the serve tensor's range
    max_abs_255: float
    edge_ratio: float  # mean |residual| on the strongest 20 % edges / on the flattest half

    @property
    def significant(self) -> bool:
        return self.mean_abs_255 >= 0.1


def residual_stats(serve: np.ndarray, train: np.ndarray, fit: ValueFit, *, chunk: int = CHUNK) -> ResidualStats | None:
    """Statistics of ``serve - fit.apply(train)`` (both channels last, equal shapes).

    Two passes over blocks of rows: the first sums |residual| and keeps the gradient magnitude of
    the predicted image (one float64 per pixel read) for its quantiles; the second sums |residual|
    on the pixels above and below them."""
    if serve.shape != train.shape or serve.ndim < 2 or serve.size == 0:
        return None
    h, w = serve.shape[:2]
    span = float(np.float64(serve.max()) - np.float64(serve.min())) or 1.0
    to255 = 255.0 / span
    stride = max(1, math.ceil(math.sqrt(h * w / EDGE_PIXELS)))
    rows = h if serve.size <= chunk else max(1, chunk // (serve.size // h))
    total, peak = np.float64(0.0), np.float64(-np.inf)
    grads: list[np.ndarray] = []
    edges = min(h, w) >= 3
    for r, grad, _ in _blocks(serve, train, fit, rows, stride, edges):
        total += np.sum(r)
        peak = np.maximum(peak, np.max(r))
        if grad is not None:
            grads.append(grad)
    edge_ratio = 1.0
    if edges:
        grad = grads[0] if len(grads) == 1 else np.concatenate(grads)
        del grads
        high, low = np.quantile(grad, [0.8, 0.5], overwrite_input=True)  # the order statistics, in place
        del grad
        sums, counts = np.zeros(2), [0, 0]
        for r, grad, kept in _blocks(serve, train, fit, rows, stride, edges):
            absr = r if r.ndim == 2 else r.mean(axis=-1)
            absr = absr[kept] if kept is not None else absr
            for i, where in enumerate((grad >= high, grad <= low)):
                sums[i] += np.sum(absr[where])
                counts[i] += int(np.count_nonzero(where))
        if counts[0] and counts[1]:
            edge_ratio = float(sums[0] / counts[0] / max(sums[1] / counts[1], 1e-12))
    return ResidualStats(
        shape=serve.shape,
        mean_abs_255=float(total / serve.size) * to255,
        max_abs_255=float(peak) * to255,
        edge_ratio=min(edge_ratio, 1e6),
    )


def _blocks(serve: np.ndarray, train: np.ndarray, fit: ValueFit, rows: int, stride: int, edges: bool):
    """Per block of ``rows`` rows: |residual| (float64), the gradient magnitude of the predicted
    image (when ``edges``) and, when ``stride`` > 1, the index of the grid of pixels the gradient
    was kept on (every ``stride``-th row and column of the image)."""
    h = serve.shape[0]
    for start in range(0, h, rows):
        stop = min(h, start + rows)
        low, high = (max(0, start - 1), min(h, stop + 1)) if rows < h else (0, h)  # a row either side: the gradient's
        predicted = fit.apply_rows(train, low, high)
        r = serve[low:high].astype(np.float64)
        r -= predicted
        np.abs(r, out=r)
        core = slice(start - low, stop - low)
        grad = None
        if edges:
            image = predicted if predicted.ndim == 2 else predicted.mean(axis=-1)
            del predicted
            gy, gx = np.gradient(image)
            del image
            grad = np.hypot(gx, gy)[core]
            del gx, gy
        r = r[core]
        if stride > 1 and grad is not None:
            kept = (slice(-start % stride, None, stride), slice(None, None, stride))
            yield r, grad[kept].copy(), kept
        else:
            yield r, grad, None


def abs_residual(serve: np.ndarray, train: np.ndarray, fit: ValueFit, *, chunk: int = CHUNK) -> np.ndarray:
    """|serve - fit.apply(train)|, summed over channels when there are (H×W float64), block by block."""
    h, summed = serve.shape[0], serve.ndim == 3
    out = np.empty(serve.shape[:-1] if summed else serve.shape, np.float64)
    rows = h if serve.size <= chunk else max(1, chunk // (serve.size // h))
    for start in range(0, h, rows):
        r = serve[start : start + rows].astype(np.float64)
        r -= fit.apply_rows(train, start, start + rows)
        np.abs(r, out=r)
        out[start : start + rows] = r.sum(axis=-1) if summed else r
    return out
