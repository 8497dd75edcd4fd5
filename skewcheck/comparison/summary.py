"""Running totals over the images of an audit: memory stays flat whatever their number."""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from skewcheck.comparison.metrics import ClassComparison

SIDES = ("train", "serve")
WORST_KEPT = 10
CONFIDENT = 0.9  # a wrong top-1 at or above this confidence is flagged: confidence is no proof
CONFIDENCE_BINS = 10  # histogram of top-1 confidence: [0, 0.1), [0.1, 0.2) … [0.9, 1.0]
CONFIDENT_WRONG_KEPT = 5


class RunningSummary:
    def __init__(self, class_names: list[str] | None = None, outputs: Any = None) -> None:
        self.outputs = outputs  # skewcheck.comparison.outputs.OutputJudge: per-output kinds and totals
        self.images = 0
        self.compared = 0  # both pipelines produced a tensor
        self.errors: dict[str, Counter[str]] = {side: Counter() for side in SIDES}
        self.model_errors: Counter[str] = Counter()
        self.predicted = 0
        self.agree = 0
        self.top5 = 0.0
        self.js = 0.0
        self.max_dp = 0.0
        self.max_abs_diff = 0.0  # over compared tensors of equal shape: the smallest atol that passes
        self.labelled = {side: 0 for side in SIDES}
        self.correct = {side: 0 for side in SIDES}
        self.per_class: dict[int, dict[str, int]] = defaultdict(lambda: {"n": 0, "train": 0, "serve": 0})
        self.class_names = class_names
        self.probe: dict[str, dict[str, Any]] = {}
        self._worst: list[tuple[tuple[float, ...], int, dict[str, Any]]] = []
        self.confidence = {side: [0] * CONFIDENCE_BINS for side in SIDES}
        self.confident_wrong = {side: 0 for side in SIDES}
        self._confident_wrong: list[tuple[float, int, dict[str, Any]]] = []  # serve side, most confident kept

    def add_outcomes(self, statuses: Mapping[str, str]) -> None:
        self.images += 1
        if all(statuses[s] == "ok" for s in SIDES):
            self.compared += 1
        for side in SIDES:
            if statuses[side] != "ok":
                self.errors[side][statuses[side]] += 1

    def add_model_error(self, side: str) -> None:
        self.model_errors[side] += 1

    def add_prediction(self, cmp: ClassComparison, label: int | None) -> None:
        self.predicted += 1
        self.agree += int(not cmp.flipped)
        self.top5 += cmp.top5_overlap
        self.js += cmp.js_divergence
        self.max_dp = max(self.max_dp, cmp.max_abs_dp)

    def add_label(self, side: str, label: int, top1: int) -> None:
        self.labelled[side] += 1
        self.correct[side] += int(label == top1)
        if side == "train":
            self.per_class[label]["n"] += 1
        self.per_class[label][side] += int(label == top1)

    def add_confidence(self, side: str, path: str, confidence: float, top1: int, label: int | None) -> None:
        if not math.isfinite(confidence):
            return
        self.confidence[side][min(int(confidence * CONFIDENCE_BINS), CONFIDENCE_BINS - 1)] += 1
        if label is None or top1 == label or confidence < CONFIDENT:
            return
        self.confident_wrong[side] += 1
        if side == "serve":
            item = (
                confidence,
                -self.images,
                {"path": path, "label": label, "predicted": top1, "confidence": round(confidence, 6)},
            )
            if len(self._confident_wrong) < CONFIDENT_WRONG_KEPT:
                heapq.heappush(self._confident_wrong, item)
            elif item[:2] > self._confident_wrong[0][:2]:
                heapq.heapreplace(self._confident_wrong, item)

    def add_tensor_diff(self, max_abs_diff: float) -> None:
        if not math.isfinite(max_abs_diff):  # NaN/Inf: no --atol passes (max() would drop a NaN silently)
            max_abs_diff = math.inf
        self.max_abs_diff = max(self.max_abs_diff, max_abs_diff)

    def add_probe(self, probe: Any, statuses: Mapping[str, str], differs: bool, deviates: dict[str, bool]) -> None:
        row = self.probe.setdefault(
            probe.kind,
            {
                "category": getattr(probe, "category", None),
                "expect": probe.expect,
                "images": 0,
                "train": Counter(),
                "serve": Counter(),
                "differ": 0,
                "deviates": {"train": 0, "serve": 0},
            },
        )
        row["images"] += 1
        row["differ"] += int(differs)
        for side, wrong in deviates.items():
            row["deviates"][side] += int(wrong)
        for side in SIDES:
            row[side][statuses[side]] += 1

    def consider_worst(self, score: tuple[float, ...], record: dict[str, Any]) -> None:
        item = (score, -self.images, record)
        if len(self._worst) < WORST_KEPT:
            heapq.heappush(self._worst, item)
        elif item[:2] > self._worst[0][:2]:
            heapq.heapreplace(self._worst, item)

    def worst_images(self) -> list[dict[str, Any]]:
        return [r for _, _, r in sorted(self._worst, key=lambda x: x[:2], reverse=True)]

    def probe_matrix(self) -> dict[str, Any]:
        return {
            kind: {**row, "train": dict(row["train"]), "serve": dict(row["serve"])}
            for kind, row in sorted(self.probe.items())
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "images": self.images,
            "compared": self.compared,
            "decode_errors": {s: self.errors[s]["decode-error"] for s in SIDES},
            "pipeline_errors": {s: self.errors[s]["pipeline-error"] for s in SIDES},
            "missing": {s: self.errors[s]["missing"] for s in SIDES},  # not in a snapshot / tensors: dir
            "model_errors": {s: self.model_errors[s] for s in SIDES},
            "predicted": self.predicted,
            "top1_agreement": round(self.agree / self.predicted, 6) if self.predicted else None,
            "top5_overlap": round(self.top5 / self.predicted, 6) if self.predicted else None,
            "mean_js_divergence": round(self.js / self.predicted, 6) if self.predicted else None,
            "max_abs_dp": round(self.max_dp, 6) if self.predicted else None,
            "flips": self.predicted - self.agree,
            "flip_rate": round((self.predicted - self.agree) / self.predicted, 6) if self.predicted else None,
            "min_atol_to_pass": self.max_abs_diff,
            "accuracy": None,
        }
        if self.outputs is not None:
            out["outputs"] = self.outputs.summary()
            if self.outputs.plan is not None:
                out["heads"] = self.outputs.plan.to_dict()
            changed = self.outputs.answer_changed()
            if changed is not None:
                out["answer_changed"] = changed
        if any(sum(bins) for bins in self.confidence.values()):
            out["confidence"] = {
                "bins": [round(i / CONFIDENCE_BINS, 2) for i in range(CONFIDENCE_BINS + 1)],
                **{s: list(self.confidence[s]) for s in SIDES},
            }
        if any(self.labelled.values()):
            out["accuracy"] = {
                s: round(self.correct[s] / self.labelled[s], 6) if self.labelled[s] else None for s in SIDES
            }
            out["labelled"] = dict(self.labelled)
            out["accuracy_per_class"] = [
                {
                    "class": c,
                    "name": self.class_names[c] if self.class_names and 0 <= c < len(self.class_names) else str(c),
                    "images": row["n"],
                    "train": round(row["train"] / row["n"], 6) if row["n"] else None,
                    "serve": round(row["serve"] / row["n"], 6) if row["n"] else None,
                }
                for c, row in sorted(self.per_class.items())
            ]
            out["confident_wrong"] = {
                "threshold": CONFIDENT,
                **self.confident_wrong,
                "examples": [r for _, _, r in sorted(self._confident_wrong, key=lambda x: x[:2], reverse=True)],
            }
        return out
