"""The augmentation audit: decode once, then one batched model pass per (transform, strength).

1. The train pipeline decodes every file once: the clean tensors (an image whose pipeline fails
   is counted and left out).
2. The model answers the clean tensors in one batched pass (``predict_side``, compare's runner
   and batching: tensors grouped by shape, a rejected batch retried image by image).
3. For each transform and strength, every clean tensor is transformed with its own generator,
   ``np.random.default_rng([seed, crc32(transform name), strength index, image index])`` (image
   *i* sees the same randomness whatever else runs), and the model answers the lot in one batched
   pass. A transform that raises on an image is that image's recorded error for that strength.
4. :mod:`skewcheck.augment.measure` compares the answers; :mod:`skewcheck.augment.findings` turns
   them into safe ranges and findings.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skewcheck.augment import measure
from skewcheck.augment.findings import grade
from skewcheck.augment.report import AugmentReport
from skewcheck.augment.spec import Strength, Transform
from skewcheck.augment.value_range import ValueRange, infer_value_range
from skewcheck.comparison.outputs import OutputJudge, parse_detections
from skewcheck.comparison.predict import predict_side
from skewcheck.errors import AuditError, one_line, type_name
from skewcheck.images.source import ImageFile

Detections = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class AugmentInputs:
    runner: Any
    train: Any  # a Pipeline
    files: list[tuple[str, ImageFile]]  # (name relative to --images, file)
    transforms: list[Transform]
    labels: dict[str, int] = field(default_factory=dict)
    class_names: list[str] | None = None
    task: str | None = None
    threshold: float = 0.5
    postprocess: Callable[..., Any] | None = None
    value_range: ValueRange | None = None
    seed: int = 0
    confidence: float = 0.7
    break_share: float = 0.25
    max_drop: float = 5.0
    gate: str = "major"
    spec_ref: str = ""


@dataclass
class _Clean:
    names: list[str]
    tensors: list[np.ndarray]
    outputs: list[list[np.ndarray]]
    errors: Counter[str]


def run_augment_audit(inputs: AugmentInputs) -> AugmentReport:
    clean = _decode(inputs)
    value_range, range_from = (
        (inputs.value_range, "--value-range") if inputs.value_range is not None else infer_value_range(clean.tensors)
    )
    judge = OutputJudge(inputs.task, inputs.threshold, inputs.postprocess)
    judge.kinds_for(clean.outputs[0])
    task = judge.primary
    if task is None:
        raise AuditError(
            f"the model's outputs ({', '.join(judge.kinds)}) are neither class scores nor a dense map: "
            "pass --task embedding, or --postprocess for detections"
        )
    scored = _Scorer(inputs, clean, judge, task)
    labels = [inputs.labels.get(n) for n in clean.names]
    labelled = sum(1 for y in labels if y is not None)
    transforms = [_run_transform(inputs, t, clean, value_range, scored) for t in inputs.transforms]
    summary: dict[str, Any] = {
        "files": len(inputs.files),
        "images": len(clean.names),
        "pipeline_errors": dict(sorted(clean.errors.items())),
        "labelled": labelled,
        "task": task,
        "metric": scored.metric,
        "clean": scored.clean_summary(),
        "value_range": list(value_range),
        "value_range_from": range_from,
        "seed": inputs.seed,
        "confidence": inputs.confidence,
        "break_share": inputs.break_share,
        "max_drop_points": inputs.max_drop,
        "model_passes": 1 + sum(len(t["results"]) for t in transforms if t.get("error") is None),
    }
    findings = grade(transforms, summary, inputs.class_names)
    return AugmentReport(
        gate=inputs.gate,
        model=inputs.runner.info.to_dict(),
        train={"ref": inputs.train.ref, "description": getattr(inputs.train, "description", "")},
        augment={"ref": inputs.spec_ref, "transforms": len(inputs.transforms)},
        summary=summary,
        transforms=transforms,
        findings=findings,
        class_names=inputs.class_names,
    )


def _decode(inputs: AugmentInputs) -> _Clean:
    names, tensors, errors = [], [], Counter[str]()
    for name, path in inputs.files:
        outcome = inputs.train.run(path)
        if outcome.ok:
            names.append(name)
            tensors.append(outcome.tensor)
        else:
            errors[outcome.status] += 1
    if not tensors:
        raise AuditError(f"the train pipeline produced no tensor for any of the {len(inputs.files)} images")
    predictions = predict_side(inputs.runner, tensors)
    keep = [i for i, p in enumerate(predictions) if p is not None and p.outputs is not None]
    errors["model-error"] += len(tensors) - len(keep)
    if not keep:
        first = next((p.error or p.skipped for p in predictions if p is not None and (p.error or p.skipped)), "")
        raise AuditError(f"the model answered none of the {len(tensors)} clean images ({first})")
    outputs = [_outputs(predictions[i]) for i in keep]
    return _Clean([names[i] for i in keep], [tensors[i] for i in keep], outputs, +errors)


def _outputs(prediction: Any) -> list[np.ndarray]:
    return list(prediction.outputs)


class _Scorer:
    """The task's view of the clean answers, and how a transformed set's answers compare to them."""

    def __init__(self, inputs: AugmentInputs, clean: _Clean, judge: OutputJudge, task: str) -> None:
        self.inputs, self.clean, self.judge, self.task = inputs, clean, judge, task
        self.labels = [inputs.labels.get(n) for n in clean.names]
        self.detections: list[Detections | None] = []
        self.index = 0
        if task == "classification":
            self.index = next(i for i, k in enumerate(judge.kinds) if k == "classification")
            self.clean_probs = measure.probabilities(np.stack([o[self.index] for o in clean.outputs]))
        elif task == "detection":
            self.detections = [self._detect(o) for o in clean.outputs]
        has_labels = task == "classification" and any(y is not None for y in self.labels)
        self.metric = "accuracy" if has_labels else ("targets_agree" if task == "detection" else "consistency")

    def _detect(self, outputs: list[np.ndarray]) -> Detections | None:
        assert self.inputs.postprocess is not None
        try:
            return parse_detections(self.inputs.postprocess([np.asarray(o) for o in outputs]))
        except Exception:  # noqa: BLE001 (the user's post-process on one image)
            return None

    def clean_summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"images": len(self.clean.names)}
        if self.task == "classification":
            pred = self.clean_probs.argmax(1)
            labelled = [i for i, y in enumerate(self.labels) if y is not None]
            correct = sum(1 for i in labelled if pred[i] == self.labels[i])
            out["accuracy"] = measure.rate(correct, len(labelled)) if labelled else None
            out["confident"] = int((self.clean_probs.max(1) >= self.inputs.confidence).sum())
        elif self.task == "detection":
            out["detections"] = sum(len(d[0]) for d in self.detections if d is not None)
            out["postprocess_errors"] = sum(1 for d in self.detections if d is None)
        out[self.metric] = out.get(self.metric, 1.0)
        return out

    def baseline(self) -> float:
        return float(self.clean_summary()[self.metric] or 0.0)

    def score(self, rows: list[int], outputs: list[list[np.ndarray]], moved: list[np.ndarray | None]) -> dict[str, Any]:
        names = [self.clean.names[i] for i in rows]
        if self.task == "classification":
            probs = measure.probabilities(np.stack([o[self.index] for o in outputs]))
            return measure.classification(
                names,
                self.clean_probs[rows],
                probs,
                [self.labels[i] for i in rows],
                self.inputs.confidence,
                self.inputs.break_share,
            )
        if self.task == "detection":
            targets, found, kept = [], [], []
            for r, out, boxes in zip(rows, outputs, moved, strict=True):
                det, now = self.detections[r], self._detect(out)
                if det is None or now is None or boxes is None:
                    continue
                area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
                inside = area > 0  # a target moved out of the image is gone from the targets
                targets.append((boxes[inside], det[1][inside], det[2][inside]))
                found.append(now)
                kept.append(self.clean.names[r])
            result = measure.detection(kept, targets, found, self.inputs.break_share)
            result["postprocess_errors"] = len(rows) - len(kept)
            return result
        verdicts = [self.judge.changed(self.clean.outputs[r], out) for r, out in zip(rows, outputs, strict=True)]
        return measure.changed_share(verdicts)


def _rng(seed: int, name: str, step: int, image: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8", "backslashreplace")), step, image])


def _run_transform(
    inputs: AugmentInputs, t: Transform, clean: _Clean, value_range: ValueRange, scorer: _Scorer
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": t.name,
        "source": t.source,
        "builtin": t.builtin,
        "unit": t.unit,
        "configured": list(t.configured) if t.configured else None,
        "strengths": list(t.strengths),
        "moves_boxes": t.moves_boxes,
        "results": [],
    }
    if t.source == "keras layer":
        import keras

        keras.utils.set_random_seed(inputs.seed)
    for step, strength in enumerate(t.strengths):
        entry["results"].append(_run_strength(inputs, t, step, strength, clean, value_range, scorer))
    failed = [r for r in entry["results"] if not r["images"]]
    if failed and len(failed) == len(entry["results"]):
        entry["error"] = failed[0].get("first_error") or "no image could be transformed"
    return entry


def _run_strength(
    inputs: AugmentInputs,
    t: Transform,
    step: int,
    strength: Strength,
    clean: _Clean,
    value_range: ValueRange,
    scorer: _Scorer,
) -> dict[str, Any]:
    rows: list[int] = []
    tensors: list[np.ndarray | None] = []
    moved: list[np.ndarray | None] = []
    errors, first = 0, None
    for i, tensor in enumerate(clean.tensors):
        boxes = None
        if scorer.task == "detection":
            det = scorer.detections[i]
            boxes = det[0] if det is not None else np.zeros((0, 4))
        try:
            image, new_boxes = t.apply(tensor, boxes, strength, _rng(inputs.seed, t.name, step, i), value_range)
            if new_boxes is not None and boxes is not None and len(new_boxes) != len(boxes):
                raise ValueError(f"the transform returned {len(new_boxes)} boxes for {len(boxes)}")
        except Exception as exc:  # noqa: BLE001 (the user's transform: its failure is recorded)
            errors += 1
            first = first or f"{clean.names[i]}: {type_name(exc)}: {one_line(exc, limit=300)}"
            continue
        rows.append(i)
        tensors.append(image)
        moved.append(new_boxes)
    result: dict[str, Any] = {"strength": strength, "transform_errors": errors}
    if first:
        result["first_error"] = first
    predictions = predict_side(inputs.runner, list(tensors)) if tensors else []  # one batched pass
    ok = [k for k, p in enumerate(predictions) if p is not None and p.outputs is not None]
    result["model_errors"] = len(tensors) - len(ok)
    if not ok:
        result["images"] = 0
        return result
    scored = scorer.score([rows[k] for k in ok], [_outputs(predictions[k]) for k in ok], [moved[k] for k in ok])
    result.update(scored)
    value = scored.get(scorer.metric)
    base = scorer.baseline()
    result["drop_points"] = None if value is None else round(100 * (base - value), 4)
    return result
