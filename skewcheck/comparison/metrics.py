"""Numbers that compare two tensors and two model outputs. Pure NumPy, no judgement."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

CHUNK = 1 << 20  # elements per block: float64 scratch of a few MiB, whatever the tensor's size


def _flat(x: np.ndarray) -> np.ndarray:
    """A 1-D view where the layout allows (a copy in the tensor's own dtype otherwise)."""
    return np.asarray(x).reshape(-1)


def tensor_metrics(train: np.ndarray, serve: np.ndarray, *, chunk: int = CHUNK) -> dict[str, float]:
    """max/mean abs diff, RMSE, PSNR (peak = the train tensor's value range) and cosine.

    Computed over the flattened tensors in blocks of ``chunk`` elements, accumulating max, min,
    sums, sums of squares and the dot product in float64: no full float64 copy of either tensor
    or of their difference is made (a 256 MiB float32 pair needs a few MiB, not GBs). Equal to
    the straightforward whole-array formula to within float rounding.
    """
    a_in, b_in = np.asarray(train), np.asarray(serve)
    if a_in.shape != b_in.shape:  # the audit aligns shapes first; broadcast like ``a - b`` would
        a_in, b_in = np.broadcast_arrays(a_in, b_in)
    a_flat, b_flat = _flat(a_in), _flat(b_in)
    n = a_flat.size
    if n == 0:
        return {"max_abs_diff": 0.0, "mean_abs_diff": 0.0, "rmse": 0.0, "psnr": math.inf, "cosine": 1.0}
    f64 = np.float64
    max_diff = f64(-np.inf)
    a_max, a_min = f64(-np.inf), f64(np.inf)
    sum_diff = sumsq_diff = sumsq_a = sumsq_b = dot = f64(0.0)
    step = max(1, int(chunk))
    for start in range(0, n, step):
        a = a_flat[start : start + step].astype(f64)
        b = b_flat[start : start + step].astype(f64)
        # np.maximum / np.minimum propagate NaN like the whole-array max and min do
        a_max, a_min = np.maximum(a_max, a.max()), np.minimum(a_min, a.min())
        sumsq_a += np.dot(a, a)
        sumsq_b += np.dot(b, b)
        dot += np.dot(a, b)
        np.subtract(a, b, out=b)
        np.abs(b, out=b)
        max_diff = np.maximum(max_diff, b.max())
        sum_diff += b.sum()
        sumsq_diff += np.dot(b, b)
    rmse = float(np.sqrt(sumsq_diff / n))
    peak = float(a_max - a_min)
    peak = peak if peak > 0 else 1.0
    if not (math.isfinite(rmse) and math.isfinite(peak)):
        psnr = math.nan  # NaN/Inf in a tensor: reported by the pipeline-error detector
    else:
        psnr = math.inf if rmse == 0 else 20 * math.log10(peak / rmse)
    na, nb = float(np.sqrt(sumsq_a)), float(np.sqrt(sumsq_b))
    cosine = 1.0 if na == 0 and nb == 0 else (float(dot) / (na * nb) if na and nb else 0.0)
    return {
        "max_abs_diff": float(max_diff),
        "mean_abs_diff": float(sum_diff / n),
        "rmse": rmse,
        "psnr": psnr,
        "cosine": cosine,
    }


def row_blocks(*arrays: np.ndarray, chunk: int = CHUNK):
    """The arrays (one shape) in blocks of whole rows along their first axis, about ``chunk``
    elements each, as float64: a tensor of up to ``chunk`` elements is one block, the whole array,
    so what is computed from the blocks is what the whole-array formula gives; larger ones never
    have a full-size float64 copy. Views of any layout (a CHW tensor moved to HWC) are read in
    place."""
    first = arrays[0]
    if first.ndim == 0 or first.size <= chunk:
        yield tuple(np.asarray(a).astype(np.float64) for a in arrays)
        return
    per_row = max(1, first.size // first.shape[0])
    rows = max(1, chunk // per_row)
    for start in range(0, first.shape[0], rows):
        yield tuple(a[start : start + rows].astype(np.float64) for a in arrays)


def within(train: np.ndarray, serve: np.ndarray, atol: float, rtol: float) -> bool:
    """``|serve - train| <= atol + rtol·|train|`` everywhere (equal shapes), block by block."""
    for a, b in row_blocks(train, serve):
        np.subtract(b, a, out=b)  # in place: |b - a| <= atol + rtol·|a|, value for value
        np.abs(b, out=b)
        np.abs(a, out=a)
        a *= rtol
        a += atol
        if not np.all(b <= a):
            return False
    return True


def mean_abs_diff(train: np.ndarray, serve: np.ndarray) -> float:
    """Mean ``|train - serve|`` (equal shapes) in float64, block by block; 0 for empty tensors."""
    if train.size == 0:
        return 0.0
    total = np.float64(0.0)
    for a, b in row_blocks(train, serve):
        total += np.sum(np.abs(a - b))
    return float(total / train.size)


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Max ``|a - b|`` (equal shapes, not empty) in float64, block by block."""
    return float(np.max([np.max(np.abs(x - y)) for x, y in row_blocks(a, b)]))  # NaN propagates, as in one np.max


def equal_values(a: np.ndarray, b: np.ndarray) -> bool:
    """``np.array_equal(a, b, equal_nan=True)`` without its full-size masked copies: block by block."""
    if a.shape != b.shape:
        return False
    if a.ndim == 0 or a.size <= CHUNK:
        return bool(np.array_equal(a, b, equal_nan=True))
    rows = max(1, CHUNK // max(1, a.size // a.shape[0]))
    return all(np.array_equal(a[i : i + rows], b[i : i + rows], equal_nan=True) for i in range(0, a.shape[0], rows))


LOWPASS_CELLS = 8  # the distance compares 8 × 8 cell means: what a model sees at a glance


def input_distance_db(train: np.ndarray, serve: np.ndarray) -> float | None:
    """How far the serve tensor is from the train tensor at low resolution, in dB (higher = closer).

    Both tensors are averaged over an 8 × 8 grid of cells on their two spatial axes, and the RMSE
    of the cell means is taken against the train tensor's value range: ``20·log10(range / rmse)``.
    Averaging first removes what resize methods, JPEG DCTs and small colour differences change
    (edges, textures, a few levels) and keeps what rotation, re-framing, re-normalizing, a channel
    swap, blanking or noise change (where things are, how bright, which colour). None when the
    tensors' shapes differ or hold no numbers; ``inf`` when the cell means are equal.
    """
    a, b = np.asarray(train), np.asarray(serve)
    if (
        a.shape != b.shape
        or a.size == 0
        or not (np.issubdtype(a.dtype, np.number) and np.issubdtype(b.dtype, np.number))
    ):
        return None
    a64, b64 = _cell_means(a), _cell_means(b)
    lo, hi = float(np.min(a)), float(np.max(a))  # the range of the full-resolution train tensor
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    rmse = float(np.sqrt(np.mean((a64 - b64) ** 2)))
    if not math.isfinite(rmse):
        return -math.inf
    return math.inf if rmse == 0 else 20 * math.log10(span / rmse)


def _cell_means(x: np.ndarray) -> np.ndarray:
    """The tensor averaged over a grid of cells on its spatial axes (HWC, CHW or HW; a leading
    batch axis of 1 ignored); other shapes as they are, in float64."""
    x = x.reshape(x.shape[1:]) if x.ndim == 4 and x.shape[0] == 1 else x
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        return x.astype(np.float64)
    if x.shape[0] <= 4 < min(x.shape[1:]):  # CHW
        x = np.moveaxis(x, 0, -1)
    h, w = x.shape[:2]
    cells = LOWPASS_CELLS
    if h < cells or w < cells:
        return x.astype(np.float64)
    hb, wb = h // cells, w // cells
    # cells of equal size over the whole tensor but its last few rows/columns
    return x[: hb * cells, : wb * cells].reshape(cells, hb, cells, wb, -1).mean(axis=(1, 3), dtype=np.float64)


def is_class_scores(output: np.ndarray) -> bool:
    """One image's output is a vector of class scores when it is 1-D with at least 2 entries."""
    return output.ndim == 1 and output.shape[0] >= 2 and np.issubdtype(output.dtype, np.number)


def as_probabilities(scores: np.ndarray) -> np.ndarray:
    """Probabilities as they are; logits through a softmax."""
    s = scores.astype(np.float64)
    if np.all(s >= -1e-6) and abs(float(s.sum()) - 1.0) < 1e-3:
        return np.clip(s, 0, None) / max(float(s.sum()), 1e-12)
    e = np.exp(s - s.max())
    return e / e.sum()


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits, in [0, 1]."""
    m = 0.5 * (p + q)

    def kl(x: np.ndarray, y: np.ndarray) -> float:
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / np.maximum(y[mask], 1e-300))))

    return max(0.0, 0.5 * kl(p, m) + 0.5 * kl(q, m))


@dataclass(frozen=True)
class ClassComparison:
    train_top1: int
    serve_top1: int
    train_confidence: float
    serve_confidence: float
    top5_overlap: float
    max_abs_dp: float
    js_divergence: float

    @property
    def flipped(self) -> bool:
        return self.train_top1 != self.serve_top1

    def to_dict(self) -> dict[str, Any]:
        return {
            "top1": {"train": self.train_top1, "serve": self.serve_top1},
            "confidence": {"train": round(self.train_confidence, 6), "serve": round(self.serve_confidence, 6)},
            "top1_agree": not self.flipped,
            "top5_overlap": round(self.top5_overlap, 6),
            "max_abs_dp": round(self.max_abs_dp, 6),
            "js_divergence": round(self.js_divergence, 6),
        }


def compare_class_scores(train: np.ndarray, serve: np.ndarray) -> ClassComparison:
    p, q = as_probabilities(train), as_probabilities(serve)
    k = min(5, p.shape[0])
    top_p, top_q = np.argsort(-p, kind="stable")[:k], np.argsort(-q, kind="stable")[:k]
    return ClassComparison(
        train_top1=int(top_p[0]),
        serve_top1=int(top_q[0]),
        train_confidence=float(p[top_p[0]]),
        serve_confidence=float(q[top_q[0]]),
        top5_overlap=len(set(top_p.tolist()) & set(top_q.tolist())) / k,
        max_abs_dp=float(np.max(np.abs(p - q))),
        js_divergence=jensen_shannon(p, q),
    )


def compare_output(train: np.ndarray, serve: np.ndarray, atol: float, rtol: float) -> dict[str, Any]:
    """Any output tensor (boxes, masks, embeddings): error statistics and an allclose verdict."""
    if train.shape != serve.shape:
        return {"shape": {"train": list(train.shape), "serve": list(serve.shape)}, "within_tolerance": False}
    a, b = train.astype(np.float64), serve.astype(np.float64)
    diff = np.abs(a - b)
    rel = diff / np.maximum(np.abs(a), 1e-12)
    bad = diff > atol + rtol * np.abs(a)
    return {
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "mean_abs_diff": float(diff.mean()) if diff.size else 0.0,
        "max_rel_diff": float(rel.max()) if rel.size else 0.0,
        "mismatch_fraction": float(bad.mean()) if bad.size else 0.0,
        "within_tolerance": not bool(bad.any()),
    }
