"""Built-in post-processes for common raw detector heads: ``--postprocess yolov8`` / ``yolov5``.

Each takes one image's raw outputs (no batch axis) and returns boxes (N×4, x1 y1 x2 y2, in the
head's own units), scores and labels, as a user's ``file.py:fn`` would, after the usual decoding:
a confidence cut (``CONFIDENCE``) and class-aware non-maximum suppression (``NMS_IOU``), the
defaults of the Ultralytics exporters. The first output whose shape fits the layout is read.

- ``yolov8``: (4 + k) × N or N × (4 + k): centre x, centre y, width, height, then k class scores.
- ``yolov5``: N × (5 + k): centre x, centre y, width, height, objectness, then k class scores
  (the confidence is objectness × class score).
"""

from __future__ import annotations

from typing import Any

import numpy as np

CONFIDENCE = 0.25
NMS_IOU = 0.45
MAX_DETECTIONS = 300


def _rows(outputs: list[np.ndarray], extra: int, transpose: bool) -> np.ndarray:
    for out in outputs:
        a = np.asarray(out, dtype=np.float64)
        a = a.reshape([n for n in a.shape if n != 1] or [1])
        if a.ndim != 2:
            continue
        if transpose and a.shape[0] < a.shape[1] and a.shape[0] > extra:
            return a.T
        if a.shape[1] > extra:
            return a
    shapes = ", ".join("×".join(map(str, np.shape(o))) for o in outputs)
    raise ValueError(f"no output shaped like the head (boxes + scores per anchor); outputs: {shapes}")


def _xyxy(rows: np.ndarray) -> np.ndarray:
    cx, cy, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, iou: float = NMS_IOU) -> np.ndarray:
    """Indices kept by greedy, class-aware non-maximum suppression, best score first."""
    from skewcheck.comparison.detections import box_iou

    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    for i in order:
        if len(keep) >= MAX_DETECTIONS:
            break
        kept = np.array(keep, dtype=np.int64)
        same = kept[labels[kept] == labels[i]] if len(kept) else kept
        if len(same) and float(np.max(box_iou(boxes[i : i + 1], boxes[same]))) > iou:
            continue
        keep.append(int(i))
    return np.array(keep, dtype=np.int64)


def _decode(rows: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    labels = np.argmax(scores, axis=1) if scores.shape[1] else np.zeros(len(rows), np.int64)
    conf = scores[np.arange(len(rows)), labels] if scores.shape[1] else np.zeros(len(rows))
    mask = conf >= CONFIDENCE
    boxes, conf, labels = _xyxy(rows[mask]), conf[mask], labels[mask]
    keep = nms(boxes, conf, labels)
    return {"boxes": boxes[keep].reshape(-1, 4), "scores": conf[keep], "labels": labels[keep]}


def yolov8(outputs: list[np.ndarray]) -> dict[str, Any]:
    rows = _rows(outputs, 4, transpose=True)
    return _decode(rows, rows[:, 4:])


def yolov5(outputs: list[np.ndarray]) -> dict[str, Any]:
    rows = _rows(outputs, 5, transpose=False)
    return _decode(rows, rows[:, 5:] * rows[:, 4:5])


BUILTIN = {"yolov8": yolov8, "yolov5": yolov5}
