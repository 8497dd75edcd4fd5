"""What one (transform, strength) did to the model's answers, against the clean images' answers.

Classification: accuracy against the labels, consistency (top-1 unchanged), per class, and the
confident confusions: among the images the model answers class *c* with confidence ≥ τ on the
clean image, how many it answers one specific other class *d* with confidence ≥ τ once
transformed (a label-breaking pair when that is at least ``break_share`` of them, and at least
``MIN_PAIR`` images), against how many merely became uncertain (confidence < τ). When one class
absorbs the confident confusions of ``COLLAPSE_SOURCES`` classes or more, the transform pushed the
images out of the distribution the model knows, and those pairs are a collapse, not a label swap.

Scores that are not probabilities (any value outside [0, 1], or rows not summing to 1) are put
through a softmax before confidences are read.

Dense and embedding tasks: consistency is the share of images whose answer did not change by the
task's own test (:class:`skewcheck.comparison.outputs.OutputJudge`). Detection: the clean image's
detections, moved by the transform's own box function, are the targets; the transformed image's
detections are matched to them by IoU (:func:`skewcheck.comparison.outputs.match_detections`).
Targets agree on an image when no target is lost, none is spurious and none is relabelled; the
model *finds the objects elsewhere* when as many boxes as targets are found but some target is
lost: the transform moved the pixels one way and the boxes another.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np

from skewcheck.comparison.intervals import wilson
from skewcheck.comparison.outputs import match_detections

MIN_PAIR = 2
COLLAPSE_SOURCES = 3  # a target class that absorbs confident confusions from this many classes or more
EXAMPLES = 3


def probabilities(scores: np.ndarray) -> np.ndarray:
    """Rows of class probabilities (a softmax unless they already are probabilities)."""
    x = np.asarray(scores, dtype=np.float64)
    if x.size and np.all((x >= 0) & (x <= 1)) and np.allclose(x.sum(axis=1), 1.0, atol=1e-3):
        return x
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def rate(k: int, n: int) -> float | None:
    return round(k / n, 6) if n else None


def interval(k: int, n: int) -> list[float] | None:
    w = wilson(k, n)
    return None if w is None else [round(w[0], 6), round(w[1], 6)]


def classification(
    names: list[str],
    clean: np.ndarray,
    augmented: np.ndarray,
    labels: list[int | None],
    confidence: float,
    break_share: float,
) -> dict[str, Any]:
    """``clean``/``augmented``: (N, classes) probabilities of the same N images (in ``names`` order)."""
    p0, p1 = clean.argmax(1), augmented.argmax(1)
    c0, c1 = clean.max(1), augmented.max(1)
    n = len(names)
    same = p0 == p1
    labelled = [i for i, y in enumerate(labels) if y is not None]
    correct = [i for i in labelled if p1[i] == labels[i]]
    out: dict[str, Any] = {
        "images": n,
        "consistency": rate(int(same.sum()), n),
        "accuracy": rate(len(correct), len(labelled)) if labelled else None,
    }
    per: dict[int, dict[str, int]] = defaultdict(lambda: {"images": 0, "same": 0, "labelled": 0, "correct": 0})
    for i in range(n):
        label = labels[i]
        cls = int(label) if label is not None else int(p0[i])
        row = per[cls]
        row["images"] += 1
        row["same"] += int(same[i])
        if labels[i] is not None:
            row["labelled"] += 1
            row["correct"] += int(p1[i] == labels[i])
    out["per_class"] = {
        str(c): {
            "images": r["images"],
            "consistency": rate(r["same"], r["images"]),
            "accuracy": rate(r["correct"], r["labelled"]) if r["labelled"] else None,
        }
        for c, r in sorted(per.items())
    }
    out.update(confusions(names, p0, p1, c0, c1, confidence, break_share))
    return out


def confusions(
    names: list[str],
    p0: np.ndarray,
    p1: np.ndarray,
    c0: np.ndarray,
    c1: np.ndarray,
    confidence: float,
    break_share: float,
) -> dict[str, Any]:
    confident = c0 >= confidence
    sources: Counter[int] = Counter(int(p0[i]) for i in np.flatnonzero(confident))
    moved: dict[tuple[int, int], list[int]] = defaultdict(list)
    uncertain: Counter[int] = Counter()
    for i in np.flatnonzero(confident):
        a, b = int(p0[i]), int(p1[i])
        if c1[i] < confidence:
            uncertain[a] += 1
        elif a != b:
            moved[(a, b)].append(int(i))
    sinks = Counter(b for (_, b), idx in moved.items() if len(idx) >= MIN_PAIR)
    collapsed = {d for d, k in sinks.items() if k >= COLLAPSE_SOURCES}
    pairs = []
    for (a, b), idx in sorted(moved.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        k, of = len(idx), sources[a]
        breaking = k >= MIN_PAIR and k / of >= break_share and b not in collapsed
        pairs.append(
            {
                "from": a,
                "to": b,
                "count": k,
                "of": of,
                "share": rate(k, of),
                "interval": interval(k, of),
                "label_breaking": breaking,
                "collapse": b in collapsed,
                "examples": [names[i] for i in idx[:EXAMPLES]],
            }
        )
    return {
        "confident_clean": int(confident.sum()),
        "became_uncertain": int(sum(uncertain.values())),
        "confident_elsewhere": int(sum(len(v) for v in moved.values())),
        "pairs": pairs,
        "collapse_to": sorted(collapsed),
    }


def changed_share(verdicts: list[bool | None]) -> dict[str, Any]:
    judged = [v for v in verdicts if v is not None]
    same = sum(1 for v in judged if not v)
    return {"images": len(verdicts), "judged": len(judged), "consistency": rate(same, len(judged))}


def detection(
    names: list[str],
    targets: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    break_share: float,
) -> dict[str, Any]:
    """``targets``: the clean detections moved by the transform; ``found``: the transformed image's."""
    agree, elsewhere = 0, 0
    ious: list[float] = []
    examples: list[str] = []
    totals = Counter[str]()
    for name, t, f in zip(names, targets, found, strict=True):
        m = match_detections(t, f)
        for key in ("train_boxes", "kept", "moved", "lost", "spurious", "relabelled"):
            totals[key] += m[key]
        agree += int(not m["changed"])
        if m["matched_iou"] is not None:
            ious.append(m["matched_iou"])
        if m["lost"] and len(f[0]) >= len(t[0]):
            elsewhere += 1
            if len(examples) < EXAMPLES:
                examples.append(name)
    n = len(names)
    return {
        "images": n,
        "targets_agree": rate(agree, n),
        "consistency": rate(agree, n),
        "matched_iou": round(float(np.mean(ious)), 6) if ious else None,
        "targets": totals["train_boxes"],
        "targets_lost": totals["lost"],
        "spurious": totals["spurious"],
        "found_elsewhere": elsewhere,
        "found_elsewhere_share": rate(elsewhere, n),
        "found_elsewhere_interval": interval(elsewhere, n),
        "target_breaking": elsewhere >= MIN_PAIR and elsewhere / max(n, 1) >= break_share,
        "examples": examples,
    }
