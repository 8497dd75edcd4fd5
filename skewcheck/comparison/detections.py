"""Detections, train against serve: a post-process's result read as boxes, scores and labels, and
the two sides' boxes matched (docs/models.md, "Detections: the post-process")."""

from __future__ import annotations

from typing import Any

import numpy as np

MATCH_IOU = 0.5
KEPT_IOU = 0.9


def parse_detections(value: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A post-process result: ``{"boxes", "scores", "labels"}`` or ``(boxes, scores[, labels])``."""
    if isinstance(value, dict):
        boxes, scores, labels = value.get("boxes"), value.get("scores"), value.get("labels")
    elif isinstance(value, (tuple, list)) and len(value) in (2, 3):
        boxes, scores, labels = value[0], value[1], value[2] if len(value) == 3 else None
    else:
        raise ValueError(
            f"the post-process must return a dict with boxes, scores, labels or a tuple, got {type(value).__name__}"
        )
    if boxes is None:
        raise ValueError("the post-process returned no 'boxes'")
    b = np.asarray(boxes, dtype=np.float64)
    if b.size == 0:
        b = b.reshape(0, 4)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must be N×4 (x1, y1, x2, y2), got shape {list(b.shape)}")
    n = b.shape[0]
    s = np.ones(n) if scores is None else np.asarray(scores, dtype=np.float64).reshape(-1)
    lab = np.zeros(n, dtype=np.int64) if labels is None else np.asarray(labels).reshape(-1)
    if s.shape[0] != n or lab.shape[0] != n:
        raise ValueError(f"boxes, scores and labels differ in length: {n}, {s.shape[0]}, {lab.shape[0]}")
    return b, s, lab


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` (N×4) with every box of ``b`` (M×4), xyxy."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda z: np.clip(z[:, 2] - z[:, 0], 0, None) * np.clip(z[:, 3] - z[:, 1], 0, None)  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def match_detections(train: tuple[np.ndarray, ...], serve: tuple[np.ndarray, ...]) -> dict[str, Any]:
    """Greedy matching, train boxes in order of decreasing score: each takes the unmatched serve
    box of the same label with the highest IoU ≥ ``MATCH_IOU``; train boxes left over then take,
    the same way, a serve box of any label. A matched pair is ``kept`` when the label is the same
    and IoU ≥ ``KEPT_IOU``, else ``moved`` (``relabelled`` counts the moved pairs whose label
    changed). Unmatched train boxes are ``lost``, unmatched serve boxes ``spurious``."""
    (tb, ts, tl), (sb, _, sl) = train, serve
    iou = box_iou(tb, sb)
    used: set[int] = set()
    matched: dict[int, int] = {}
    order = np.argsort(-ts, kind="stable")
    for same_label in (True, False):
        for i in order:
            if i in matched:
                continue
            best, best_iou = -1, MATCH_IOU
            for j in range(len(sb)):
                if j in used or (same_label and sl[j] != tl[i]) or iou[i, j] < best_iou:
                    continue
                if best < 0 or iou[i, j] > best_iou:
                    best, best_iou = j, iou[i, j]
            if best >= 0:
                matched[int(i)] = best
                used.add(best)
    kept = sum(1 for i, j in matched.items() if tl[i] == sl[j] and iou[i, j] >= KEPT_IOU)
    relabelled = sum(1 for i, j in matched.items() if tl[i] != sl[j])
    ious = [float(iou[i, j]) for i, j in matched.items()]
    out = {
        "train_boxes": len(tb),
        "serve_boxes": len(sb),
        "kept": kept,
        "moved": len(matched) - kept,
        "relabelled": relabelled,
        "lost": len(tb) - len(matched),
        "spurious": len(sb) - len(matched),
        "matched_iou": round(float(np.mean(ious)), 6) if ious else None,
    }
    out["changed"] = bool(out["lost"] or out["spurious"] or relabelled)
    return out
