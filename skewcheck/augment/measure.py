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

from skewcheck.comparison.detections import match_detections
from skewcheck.comparison.intervals import wilson

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


class ClassTally:
    """One (transform, strength)'s classification answers, added chunk by chunk, in image order:
    counts only (and the first ``EXAMPLES`` names of each confusion pair), never the images."""

    def __init__(self, confidence: float) -> None:
        self.confidence = confidence
        self.n = self.same = self.labelled = self.correct = 0
        self.per: dict[int, dict[str, int]] = defaultdict(lambda: {"images": 0, "same": 0, "labelled": 0, "correct": 0})
        self.sources: Counter[int] = Counter()  # confident clean answers per class
        self.uncertain: Counter[int] = Counter()
        self.moved: dict[tuple[int, int], list[Any]] = {}  # (from, to) -> [count, first examples]

    def add(self, names: list[str], clean: np.ndarray, augmented: np.ndarray, labels: list[int | None]) -> None:
        """``clean``/``augmented``: (N, classes) probabilities of the same N images (in ``names`` order)."""
        p0, p1 = clean.argmax(1), augmented.argmax(1)
        c0, c1 = clean.max(1), augmented.max(1)
        same = p0 == p1
        self.n += len(names)
        self.same += int(same.sum())
        for i in range(len(names)):
            label = labels[i]
            row = self.per[int(label) if label is not None else int(p0[i])]
            row["images"] += 1
            row["same"] += int(same[i])
            if label is not None:
                hit = int(p1[i] == label)
                row["labelled"] += 1
                row["correct"] += hit
                self.labelled += 1
                self.correct += hit
        for j in np.flatnonzero(c0 >= self.confidence):
            a, b = int(p0[j]), int(p1[j])
            self.sources[a] += 1
            if c1[j] < self.confidence:
                self.uncertain[a] += 1
            elif a != b:
                pair = self.moved.setdefault((a, b), [0, []])
                pair[0] += 1
                if len(pair[1]) < EXAMPLES:
                    pair[1].append(names[j])

    def result(self, break_share: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            "images": self.n,
            "consistency": rate(self.same, self.n),
            "accuracy": rate(self.correct, self.labelled) if self.labelled else None,
        }
        out["per_class"] = {
            str(c): {
                "images": r["images"],
                "consistency": rate(r["same"], r["images"]),
                "accuracy": rate(r["correct"], r["labelled"]) if r["labelled"] else None,
            }
            for c, r in sorted(self.per.items())
        }
        out.update(self._confusions(break_share))
        return out

    def _confusions(self, break_share: float) -> dict[str, Any]:
        sinks = Counter(b for (_, b), (k, _) in self.moved.items() if k >= MIN_PAIR)
        collapsed = {d for d, k in sinks.items() if k >= COLLAPSE_SOURCES}
        pairs = []
        for (a, b), (k, examples) in sorted(self.moved.items(), key=lambda kv: (-kv[1][0], kv[0])):
            of = self.sources[a]
            pairs.append(
                {
                    "from": a,
                    "to": b,
                    "count": k,
                    "of": of,
                    "share": rate(k, of),
                    "interval": interval(k, of),
                    "label_breaking": k >= MIN_PAIR and k / of >= break_share and b not in collapsed,
                    "collapse": b in collapsed,
                    "examples": list(examples),
                }
            )
        return {
            "confident_clean": int(sum(self.sources.values())),
            "became_uncertain": int(sum(self.uncertain.values())),
            "confident_elsewhere": int(sum(k for k, _ in self.moved.values())),
            "pairs": pairs,
            "collapse_to": sorted(collapsed),
        }


def classification(
    names: list[str],
    clean: np.ndarray,
    augmented: np.ndarray,
    labels: list[int | None],
    confidence: float,
    break_share: float,
) -> dict[str, Any]:
    """``clean``/``augmented``: (N, classes) probabilities of the same N images (in ``names`` order)."""
    tally = ClassTally(confidence)
    tally.add(names, clean, augmented, labels)
    return tally.result(break_share)


class ChangedTally:
    """Dense and embedding answers: how many were judged, how many kept their answer."""

    def __init__(self) -> None:
        self.n = self.judged = self.same = 0

    def add(self, verdicts: list[bool | None]) -> None:
        self.n += len(verdicts)
        self.judged += sum(1 for v in verdicts if v is not None)
        self.same += sum(1 for v in verdicts if v is False)

    def result(self) -> dict[str, Any]:
        return {"images": self.n, "judged": self.judged, "consistency": rate(self.same, self.judged)}


def changed_share(verdicts: list[bool | None]) -> dict[str, Any]:
    tally = ChangedTally()
    tally.add(verdicts)
    return tally.result()


class DetectionTally:
    """Detection answers against the moved targets, added chunk by chunk in image order."""

    def __init__(self) -> None:
        self.n = self.agree = self.elsewhere = self.postprocess_errors = 0
        self.ious: list[float] = []  # one number per matched image: the mean is taken once, in order
        self.examples: list[str] = []
        self.totals = Counter[str]()

    def add(
        self,
        names: list[str],
        targets: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    ) -> None:
        """``targets``: the clean detections moved by the transform; ``found``: the transformed image's."""
        for name, t, f in zip(names, targets, found, strict=True):
            m = match_detections(t, f)
            for key in ("train_boxes", "kept", "moved", "lost", "spurious", "relabelled"):
                self.totals[key] += m[key]
            self.agree += int(not m["changed"])
            if m["matched_iou"] is not None:
                self.ious.append(m["matched_iou"])
            if m["lost"] and len(f[0]) >= len(t[0]):
                self.elsewhere += 1
                if len(self.examples) < EXAMPLES:
                    self.examples.append(name)
        self.n += len(names)

    def result(self, break_share: float) -> dict[str, Any]:
        n, elsewhere = self.n, self.elsewhere
        return {
            "images": n,
            "targets_agree": rate(self.agree, n),
            "consistency": rate(self.agree, n),
            "matched_iou": round(float(np.mean(self.ious)), 6) if self.ious else None,
            "targets": self.totals["train_boxes"],
            "targets_lost": self.totals["lost"],
            "spurious": self.totals["spurious"],
            "found_elsewhere": elsewhere,
            "found_elsewhere_share": rate(elsewhere, n),
            "found_elsewhere_interval": interval(elsewhere, n),
            "target_breaking": elsewhere >= MIN_PAIR and elsewhere / max(n, 1) >= break_share,
            "examples": list(self.examples),
        }


def detection(
    names: list[str],
    targets: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    break_share: float,
) -> dict[str, Any]:
    """``targets``: the clean detections moved by the transform; ``found``: the transformed image's."""
    tally = DetectionTally()
    tally.add(names, targets, found)
    return tally.result(break_share)
