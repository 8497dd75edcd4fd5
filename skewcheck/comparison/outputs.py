"""Output kinds: what "the model's answer changed" means for each model output (docs/models.md).

Kinds, per output of one image (no batch axis):

- ``classification``: 1-D with at least 2 entries (top-1 flips, agreement, accuracy: the audit's
  own class comparison). A 1-D vector of embeddings cannot be told from logits by its shape, so
  1-D outputs are class scores unless ``task="embedding"``.
- ``dense``: a map, H×W (both sides ≥ 8), H×W×C or C×H×W (C ≤ 4, the other sides ≥ 8); any
  output of 2 or more axes with ``task="dense"``. Per image: mean |Δ|, the share of pixels whose
  binarized value (``> threshold``) differs, and the IoU of the binarized maps. Maps of another
  spatial size (another resize policy on a dynamic-size model) are compared after resizing the
  serve map to train's size, bilinear (:func:`resampled_to`); the image's and the run's entries
  say so (``resampled``).
- ``embedding``: 1-D outputs with ``task="embedding"``. Per image: cosine similarity; over the run:
  nearest-neighbour agreement (is each image's nearest neighbour among the train embeddings the
  same image as among the serve embeddings), on the first ``NN_MAX_IMAGES`` images (float32).
- ``detection``: with a post-process (``task="detection"``, implied by ``postprocess``), which
  turns one image's raw outputs into boxes (N×4 x1 y1 x2 y2), scores and labels. Matched
  train ↔ serve, see :func:`match_detections`.
- ``other``: anything else (statistics only, as before).

The run's task (its "primary" kind) is ``task`` when given, else ``detection`` with a
post-process, else ``classification`` when an output is class scores, else ``dense`` when one is
a map. For dense, embedding and detection tasks an image's answer changed when:

- dense: more than ``CHANGED_PIXELS`` (1 %) of some dense output's pixels cross the threshold;
- embedding: some embedding's cosine similarity is below ``COSINE_CHANGED`` (0.99) (nearest-
  neighbour agreement needs the whole set, so it is a run-level number, not a per-image test);
- detection: a train box is lost, a serve box is spurious, or a matched box changed its label.

That per-image verdict stands in for the top-1 flip in severity and attribution.

(Over 400 lines on purpose: :class:`OutputJudge`'s per-image comparison, per-kind metrics and run
aggregates share one per-output state; box matching lives in ``detections.py``, which output is
which head in ``heads.py``.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from skewcheck.comparison.detections import KEPT_IOU, MATCH_IOU, match_detections, parse_detections
from skewcheck.comparison.heads import HeadPlan, OutputChoice, plan_heads
from skewcheck.comparison.metrics import is_class_scores
from skewcheck.errors import UsageError, one_line

TASKS = ("classification", "dense", "embedding", "detection")
CHANGED_PIXELS = 0.01
COSINE_CHANGED = 0.99
NN_MAX_IMAGES = 2000
DENSE_MIN_SIDE = 8
DENSE_MAX_CHANNELS = 4

LANDMARK_MOVED = 0.01  # of the coordinate range: the input's longer side, or 1 for normalized coordinates
JUDGED_KINDS = ("dense", "embedding", "landmarks", "binary")  # kinds with a per-image "answer changed" test

CHANGED_RULE = {
    "dense": f"more than {CHANGED_PIXELS:.0%} of a dense output's pixels cross the threshold",
    "landmarks": f"the mean landmark displacement is above {LANDMARK_MOVED:.0%} of the coordinate range, "
    "or a presence score crosses its threshold",
    "binary": "a presence / binary score crosses its threshold (0.5, or 0 for logits)",
    "embedding": f"cosine similarity below {COSINE_CHANGED}",
    "detection": "a box lost, a spurious box, or a matched box with another label",
}


def check_task(task: str | None, threshold: float, postprocess: Any) -> None:
    if task is not None and task not in TASKS:
        raise UsageError(f"--task must be one of {', '.join(TASKS)}, got {task!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
        raise UsageError(f"--threshold must be a finite number, got {threshold!r}")
    if task == "detection" and postprocess is None:
        raise UsageError("--task detection needs --postprocess file.py:fn (raw outputs → boxes, scores, labels)")
    if postprocess is not None and task not in (None, "detection"):
        raise UsageError(f"--postprocess applies to --task detection, not --task {task}")


def load_postprocess(ref: Any) -> Callable[[list[np.ndarray]], Any] | None:
    """``yolov8`` / ``yolov5`` (skewcheck.comparison.decoders), ``file.py:fn`` or ``pkg.module:fn``
    (the pipelines' syntax), or a callable; None stays None."""
    if ref is None or callable(ref):
        return ref
    from skewcheck.comparison.decoders import BUILTIN

    if str(ref).strip().lower() in BUILTIN:
        return BUILTIN[str(ref).strip().lower()]
    from skewcheck.pipelines.user_callable import resolve_callable

    return resolve_callable(str(ref), "--postprocess")


def looks_dense(output: np.ndarray) -> bool:
    s = output.shape
    if output.ndim == 2:
        return min(s) >= DENSE_MIN_SIDE
    if output.ndim == 3:
        return (s[-1] <= DENSE_MAX_CHANNELS and min(s[:2]) >= DENSE_MIN_SIDE) or (
            s[0] <= DENSE_MAX_CHANNELS and min(s[1:]) >= DENSE_MIN_SIDE
        )
    return False


def infer_kind(output: np.ndarray, task: str | None) -> str:
    if task == "detection":
        return "raw"  # read by the post-process; compared as statistics only
    if not np.issubdtype(output.dtype, np.number):
        return "other"
    if is_class_scores(output):
        return "embedding" if task == "embedding" else "classification"
    if task == "embedding" and sum(n > 1 for n in output.shape) == 1:  # 1×1×D: an embedding all the same
        return "embedding"
    if output.ndim >= 2 and (task == "dense" or (task is None and looks_dense(output))):
        return "dense"
    return "other"


RESAMPLE_METHOD = "bilinear"  # cv2.INTER_LINEAR, half-pixel centres (as tf.image.resize and Pillow place pixels)


def _spatial(a: np.ndarray, b: np.ndarray) -> str | None:
    """The layout two maps share when they differ only in their spatial size: HW, HWC or CHW."""
    if a.ndim != b.ndim or a.ndim not in (2, 3) or a.shape == b.shape or min(b.shape) < 1:
        return None
    if a.ndim == 2:
        return "HW"
    if a.shape[-1] == b.shape[-1] <= DENSE_MAX_CHANNELS:
        return "HWC"
    if a.shape[0] == b.shape[0] <= DENSE_MAX_CHANNELS:
        return "CHW"
    return None


def resampled_to(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, str] | None:
    """Serve map ``b`` resized to train map ``a``'s spatial size (bilinear), and how, in words;
    None unless the two maps differ only in their spatial size (same layout and channels)."""
    import cv2

    layout = _spatial(a, b)
    if layout is None or not (np.issubdtype(a.dtype, np.number) and np.issubdtype(b.dtype, np.number)):
        return None
    hwc = np.moveaxis(b, 0, -1) if layout == "CHW" else b
    h, w = a.shape[1:] if layout == "CHW" else a.shape[:2]
    out = cv2.resize(np.ascontiguousarray(hwc, dtype=np.float64), (int(w), int(h)), interpolation=cv2.INTER_LINEAR)
    out = out.reshape(h, w, *hwc.shape[2:])
    if layout == "CHW":
        out = np.moveaxis(out, -1, 0)
    return out, f"serve map resized to train's {h}×{w} (H×W), {RESAMPLE_METHOD}"


def dense_metrics(a: np.ndarray, b: np.ndarray, threshold: float) -> dict[str, Any]:
    x, y = a.astype(np.float64), b.astype(np.float64)
    ba, bb = x > threshold, y > threshold
    union = int(np.sum(ba | bb))
    crossed = float(np.mean(ba != bb)) if ba.size else 0.0
    return {
        "mean_abs_diff": float(np.mean(np.abs(x - y))) if x.size else 0.0,
        "pixels_crossing": crossed,
        "pixels": int(ba.size),
        "iou": float(np.sum(ba & bb)) / union if union else 1.0,
        "changed": crossed > CHANGED_PIXELS,
    }


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    na, nb = float(np.linalg.norm(x)), float(np.linalg.norm(y))
    if na == 0 and nb == 0:
        return 1.0
    return float(np.dot(x, y) / (na * nb)) if na and nb else 0.0


class OutputJudge:
    """Per-output comparison by kind, the run's aggregates, and the task's "answer changed" test."""

    def __init__(
        self,
        task: str | None = None,
        threshold: float = 0.5,
        postprocess: Callable[..., Any] | None = None,
        choices: tuple[OutputChoice, ...] = (),
        names: list[str] | None = None,
        max_label: int | None = None,
        input_side: int | None = None,
    ) -> None:
        self.task = task if task is not None else ("detection" if postprocess is not None else None)
        self.threshold = float(threshold)
        self.postprocess = postprocess
        self.choices, self.names, self.max_label, self.input_side = choices, names, max_label, input_side
        self.plan: HeadPlan | None = None
        self.kinds: list[str] = []
        self._coord_range: dict[int, float] = {}  # landmarks: what LANDMARK_MOVED is a share of
        self._agg: dict[int, dict[str, Any]] = {}
        self._nn: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}
        self._det: dict[str, Any] = {
            "images": 0,
            "changed": 0,
            "errors": 0,
            "iou_sum": 0.0,
            "matched": 0,
            **dict.fromkeys(("train_boxes", "serve_boxes", "kept", "moved", "relabelled", "lost", "spurious"), 0),
        }
        self.judged = 0  # images the task's own test was applied to
        self.changed_images = 0

    # -- kinds --------------------------------------------------------------------------------

    def kinds_for(self, outputs: list[np.ndarray]) -> list[str]:
        """Decided from the first image with outputs and kept for the run (new outputs are added)."""
        if self.plan is None and outputs:
            self.plan = plan_heads(outputs, self.names, self.choices, self.task, self.max_label)
            self.kinds = list(self.plan.kinds)
            for i, dims in self.plan.dims.items():
                coords = outputs[i].astype(np.float64).reshape(-1, dims)[:, :2]
                normalized = coords.size and float(np.nanmax(np.abs(coords))) <= 1.5
                side = self.input_side or float(np.nanmax(np.abs(coords))) if coords.size else 1.0
                self._coord_range[i] = 1.0 if normalized else float(side or 1.0)
        for i in range(len(self.kinds), len(outputs)):
            self.kinds.append(infer_kind(outputs[i], self.task))
        return self.kinds

    def top1(self, outputs: list[np.ndarray] | None) -> int | None:
        """The classifier's top-1 class (None without outputs or without a classification head)."""
        if not outputs:
            return None
        self.kinds_for(outputs)
        i = self.plan.class_index if self.plan is not None else None
        if i is None or i >= len(outputs) or not is_class_scores(outputs[i]):
            return None
        return int(np.argmax(outputs[i]))

    @property
    def class_index(self) -> int | None:
        return self.plan.class_index if self.plan is not None else None

    def class_output(self, outputs: list[np.ndarray] | None) -> np.ndarray | None:
        if not outputs:
            return None
        self.kinds_for(outputs)
        i = self.plan.class_index if self.plan is not None else None
        return outputs[i] if i is not None and i < len(outputs) and is_class_scores(outputs[i]) else None

    def kind(self, index: int, output: np.ndarray) -> str:
        return self.kinds[index] if index < len(self.kinds) else infer_kind(output, self.task)

    @property
    def primary(self) -> str | None:
        if self.task is not None:
            return self.task
        if self.plan is not None and self.plan.class_index is not None:
            return "classification"
        for kind in ("dense", "landmarks", "binary"):
            if kind in self.kinds:
                return kind
        return None

    def judges(self, outputs: list[np.ndarray] | None) -> bool:
        """True when this run's answer is a map, an embedding, landmarks, a binary score or
        detections, not a top-1."""
        if outputs:
            self.kinds_for(outputs)
        return self.primary in ("dense", "embedding", "detection", "landmarks", "binary")

    # -- one image ----------------------------------------------------------------------------

    def _detect(self, outputs: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        assert self.postprocess is not None
        return parse_detections(self.postprocess([np.asarray(o) for o in outputs]))

    def changed(self, train: list[np.ndarray] | None, other: list[np.ndarray] | None) -> bool | None:
        """The task's own verdict (None: not a dense / embedding / detection task, or no verdict)."""
        if not train or not other or not self.judges(train):
            return None
        verdict, _ = self._verdict(train, other, record=False)
        return verdict

    def _verdict(
        self, train: list[np.ndarray], serve: list[np.ndarray], record: bool
    ) -> tuple[bool | None, dict[str, Any]]:
        primary = self.primary
        if primary == "detection":
            try:
                det = match_detections(self._detect(train), self._detect(serve))
            except Exception as exc:  # noqa: BLE001 (the user's post-process failed on this image)
                if record:
                    self._det["errors"] += 1
                return None, {"error": f"{type(exc).__name__}: {one_line(exc, limit=300)}"}
            if record:
                self._add_detections(det)
            return det["changed"], det
        verdicts = []
        for i, (a, b) in enumerate(zip(train, serve, strict=True)):
            kind = self.kind(i, a)
            if kind == "dense" and a.shape != b.shape:
                moved = resampled_to(a, b)
                b = moved[0] if moved is not None else b
            if kind not in JUDGED_KINDS or a.shape != b.shape or (primary == "embedding") != (kind == "embedding"):
                continue
            if kind == "dense":
                verdicts.append(dense_metrics(a, b, self.threshold)["changed"])
            elif kind == "embedding":
                verdicts.append(cosine(a, b) < COSINE_CHANGED)
            elif kind == "landmarks":
                verdicts.append(self._landmarks(i, a, b)["changed"])
            elif kind == "binary":
                verdicts.append(self._binary(i, a, b)["changed"])
        return (any(verdicts) if verdicts else None), {}

    def _landmarks(self, index: int, a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
        assert self.plan is not None
        dims = self.plan.dims.get(index, 2)
        x = a.astype(np.float64).reshape(-1, dims)[:, :2]
        y = b.astype(np.float64).reshape(-1, dims)[:, :2]
        moved = np.sqrt(np.sum((x - y) ** 2, axis=1)) if x.size else np.zeros(0)
        span = self._coord_range.get(index, 1.0)
        mean = float(np.mean(moved)) if moved.size else 0.0
        return {
            "mean_displacement": mean,
            "max_displacement": float(np.max(moved)) if moved.size else 0.0,
            "points": int(moved.size),
            "units": "normalized" if span == 1.0 else "input pixels",
            "changed": mean > LANDMARK_MOVED * span,
        }

    def _binary(self, index: int, a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
        threshold = self.plan.binary_threshold.get(index, 0.5) if self.plan is not None else 0.5
        x, y = float(a.astype(np.float64).ravel()[0]), float(b.astype(np.float64).ravel()[0])
        return {"train": x, "serve": y, "threshold": threshold, "changed": (x > threshold) != (y > threshold)}

    def compare(
        self, train: list[np.ndarray], serve: list[np.ndarray]
    ) -> tuple[dict[int, dict[str, Any]], dict[str, Any] | None]:
        """Per-output numbers by index (for the image's record) and, for a dense / embedding /
        detection task, the image's answer ``{"changed": bool, ...}``; the run's totals grow.
        (Over 80 lines on purpose: one branch per output kind, each a few lines, in one place.)"""
        self.kinds_for(train)
        per: dict[int, dict[str, Any]] = {}
        for i, (a, b) in enumerate(zip(train, serve, strict=True)):
            kind = self.kind(i, a)
            per[i] = {"kind": kind}
            how = None
            if kind == "dense" and a.shape != b.shape:
                moved = resampled_to(a, b)
                if moved is not None:
                    b, how = moved
                    per[i]["resampled"] = how
            if a.shape != b.shape or not (np.issubdtype(a.dtype, np.number) and np.issubdtype(b.dtype, np.number)):
                continue
            agg = self._agg.setdefault(
                i,
                {
                    "kind": kind,
                    "images": 0,
                    "changed": 0,
                    "sum": 0.0,
                    "min": math.inf,
                    "max_abs": 0.0,
                    "crossed": 0,
                    "pixels": 0,
                    "iou_sum": 0.0,
                    "iou_min": 1.0,
                    "resampled": 0,
                    "resampled_to": {},
                },
            )
            agg["images"] += 1
            if how is not None:
                agg["resampled"] += 1
                size = "×".join(
                    str(n) for n in (a.shape[1:] if a.ndim == 3 and _spatial(a, b) == "CHW" else a.shape[:2])
                )
                agg["resampled_to"][size] = agg["resampled_to"].get(size, 0) + 1
            if kind == "classification":
                agg["sum"] += int(np.argmax(a) == np.argmax(b))
            elif kind == "dense":
                m = dense_metrics(a, b, self.threshold)
                per[i].update({k: (round(v, 6) if isinstance(v, float) else v) for k, v in m.items() if k != "pixels"})
                agg["sum"] += m["mean_abs_diff"]
                agg["crossed"] += round(m["pixels_crossing"] * m["pixels"])
                agg["pixels"] += m["pixels"]
                agg["iou_sum"] += m["iou"]
                agg["iou_min"] = min(agg["iou_min"], m["iou"])
                agg["changed"] += int(m["changed"])
                agg["max_abs"] = max(
                    agg["max_abs"], float(np.nanmax(np.abs(a.astype(np.float64) - b))) if a.size else 0.0
                )
            elif kind == "embedding":
                c = cosine(a, b)
                per[i].update({"cosine": round(c, 6), "changed": c < COSINE_CHANGED})
                agg["sum"] += c
                agg["min"] = min(agg["min"], c)
                agg["changed"] += int(c < COSINE_CHANGED)
                t, s = self._nn.setdefault(i, ([], []))
                if len(t) < NN_MAX_IMAGES:
                    t.append(a.astype(np.float32).ravel())
                    s.append(b.astype(np.float32).ravel())
            elif kind == "landmarks":
                m = self._landmarks(i, a, b)
                per[i].update({k: (round(v, 6) if isinstance(v, float) else v) for k, v in m.items()})
                agg["sum"] += m["mean_displacement"]
                agg["max_abs"] = max(agg["max_abs"], m["max_displacement"])
                agg["changed"] += int(m["changed"])
                agg["units"] = m["units"]
            elif kind == "binary":
                m = self._binary(i, a, b)
                per[i].update({k: (round(v, 6) if isinstance(v, float) else v) for k, v in m.items()})
                agg["changed"] += int(m["changed"])
                agg["threshold"] = m["threshold"]
                agg["sum"] += abs(m["train"] - m["serve"])
            else:
                d = np.abs(a.astype(np.float64) - b) if a.size else np.zeros(1)
                agg["sum"] += float(np.mean(d))
                agg["max_abs"] = max(agg["max_abs"], float(np.nanmax(d)))
        if not self.judges(train):
            return per, None
        verdict, details = self._verdict(train, serve, record=True)
        if verdict is None and not details:
            return per, None
        self.judged += int(verdict is not None)
        self.changed_images += int(bool(verdict))
        return per, {"changed": verdict, **details}

    def _add_detections(self, det: dict[str, Any]) -> None:
        d = self._det
        d["images"] += 1
        d["changed"] += int(det["changed"])
        for key in ("train_boxes", "serve_boxes", "kept", "moved", "relabelled", "lost", "spurious"):
            d[key] += det[key]
        if det["matched_iou"] is not None:
            matched = det["kept"] + det["moved"]
            d["iou_sum"] += det["matched_iou"] * matched
            d["matched"] += matched

    # -- the run ------------------------------------------------------------------------------

    def summary(self) -> list[dict[str, Any]]:
        """``summary.outputs``: one entry per output (one for all the detector's outputs)."""
        out: list[dict[str, Any]] = []
        if self.primary == "detection":
            d = self._det
            out.append(
                {
                    "output": list(range(len(self.kinds))),
                    "kind": "detection",
                    "metric": "boxes_kept",
                    "value": round(d["kept"] / d["train_boxes"], 6) if d["train_boxes"] else None,
                    "images": d["images"],
                    "changed": d["changed"],
                    **{
                        k: d[k]
                        for k in ("train_boxes", "serve_boxes", "kept", "moved", "relabelled", "lost", "spurious")
                    },
                    "matched_iou": round(d["iou_sum"] / d["matched"], 6) if d["matched"] else None,
                    "match_iou": MATCH_IOU,
                    "kept_iou": KEPT_IOU,
                    "postprocess_errors": d["errors"],
                }
            )
        for i, agg in sorted(self._agg.items()):
            n, kind = agg["images"], agg["kind"]
            entry: dict[str, Any] = {"output": i, "kind": kind, "images": n}
            if kind == "classification":
                entry.update(metric="top1_agreement", value=round(agg["sum"] / n, 6))
            elif kind == "dense":
                entry.update(
                    metric="pixels_crossing",
                    value=round(agg["crossed"] / agg["pixels"], 6) if agg["pixels"] else 0.0,
                    threshold=self.threshold,
                    iou=round(agg["iou_sum"] / n, 6),
                    min_iou=round(agg["iou_min"], 6),
                    mean_abs_diff=round(agg["sum"] / n, 6),
                    max_abs_diff=round(agg["max_abs"], 6),
                    changed=agg["changed"],
                )
                if agg["resampled"]:
                    entry["resampled"] = {
                        "images": agg["resampled"],
                        "method": RESAMPLE_METHOD,
                        "how": resampled_text(agg["resampled_to"], agg["resampled"], n),
                    }
            elif kind == "embedding":
                t, s = self._nn.get(i, ([], []))
                entry.update(
                    metric="cosine",
                    value=round(agg["sum"] / n, 6),
                    min_cosine=round(agg["min"], 6),
                    changed=agg["changed"],
                    **nn_agreement(t, s),
                )
            elif kind == "landmarks":
                entry.update(
                    metric="mean_displacement",
                    value=round(agg["sum"] / n, 6),
                    max_displacement=round(agg["max_abs"], 6),
                    units=agg.get("units", "normalized"),
                    moved_above=round(LANDMARK_MOVED * self._coord_range.get(i, 1.0), 6),
                    changed=agg["changed"],
                )
            elif kind == "binary":
                entry.update(
                    metric="flips",
                    value=agg["changed"],
                    threshold=agg.get("threshold", 0.5),
                    mean_abs_diff=round(agg["sum"] / n, 6),
                    changed=agg["changed"],
                )
            else:
                entry.update(metric="mean_abs_diff", value=round(agg["sum"] / n, 6))
                if kind in ("regression", "anchors"):
                    entry["max_abs_diff"] = round(agg["max_abs"], 6)
            out.append(entry)
        return out

    def answer_changed(self) -> dict[str, Any] | None:
        primary = self.primary
        if primary not in CHANGED_RULE:
            return None
        return {"task": primary, "images": self.judged, "changed": self.changed_images, "rule": CHANGED_RULE[primary]}


def resampled_text(sizes: dict[str, int], resampled: int, images: int) -> str:
    """E.g. "serve map resized to train's 96×128 (H×W), bilinear, on 7 of 7 images"."""
    if len(sizes) == 1:
        where = f"train's {next(iter(sizes))} (H×W)"
    else:
        shown = ", ".join(sorted(sizes, key=lambda k: (-sizes[k], k))[:4]) + (", …" if len(sizes) > 4 else "")
        where = f"train's H×W on each image ({len(sizes)} sizes: {shown})"
    return f"serve map resized to {where}, {RESAMPLE_METHOD}, on {resampled} of {images} images"


def nn_agreement(train: list[np.ndarray], serve: list[np.ndarray]) -> dict[str, Any]:
    """Share of images whose nearest neighbour (cosine, itself excluded) is the same image among
    the train and among the serve embeddings; None under 3 images (2 always agree)."""
    n = len(train)
    if n < 3:
        return {"nn_agreement": None, "nn_images": n}

    def neighbours(rows: list[np.ndarray]) -> np.ndarray:
        m = np.stack(rows).astype(np.float32)
        m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
        sim = m @ m.T
        np.fill_diagonal(sim, -np.inf)
        return np.argmax(sim, axis=1)

    agree = neighbours(train) == neighbours(serve)
    return {
        "nn_agreement": round(float(np.mean(agree)), 6),
        "nn_disagree": int(n - agree.sum()),
        "nn_images": n,
        "nn_max_images": NN_MAX_IMAGES,
    }
