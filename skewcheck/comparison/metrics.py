"""Numbers that compare two tensors and two model outputs. Pure NumPy, no judgement."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


def tensor_metrics(train: np.ndarray, serve: np.ndarray) -> dict[str, float]:
    """max/mean abs diff, RMSE, PSNR (peak = the train tensor's value range) and cosine."""
    a = train.astype(np.float64, copy=False)
    b = serve.astype(np.float64, copy=False)
    diff = np.abs(a - b)
    rmse = float(np.sqrt(np.mean(diff**2))) if diff.size else 0.0
    peak = float(np.max(a) - np.min(a)) if a.size else 0.0
    peak = peak if peak > 0 else 1.0
    if not (math.isfinite(rmse) and math.isfinite(peak)):
        psnr = math.nan  # NaN/Inf in a tensor: reported by the pipeline-error detector
    else:
        psnr = math.inf if rmse == 0 else 20 * math.log10(peak / rmse)
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    cosine = 1.0 if na == 0 and nb == 0 else (float(np.vdot(a, b)) / (na * nb) if na and nb else 0.0)
    return {
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "mean_abs_diff": float(diff.mean()) if diff.size else 0.0,
        "rmse": rmse,
        "psnr": psnr,
        "cosine": cosine,
    }


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
