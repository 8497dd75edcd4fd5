"""The augmentation audit, streamed in chunks: decode a chunk, then one batched model pass per
(transform, strength) on it, and only running tallies kept.

The images go through in chunks of ``chunk`` files (:data:`CHUNK_IMAGES`), in the audited order;
only one chunk's tensors exist at a time, whatever the number of images.

1. The train pipeline decodes each file of the chunk once: the clean tensors (an image whose
   pipeline fails is counted and left out), in this process or, with ``workers`` ≥ 1, in compare's
   worker pool (:class:`skewcheck.execution.pool.PipelinePool`, the train side only), which decodes ahead
   of this process while it imports TensorFlow, runs the model and transforms.
2. The model answers the chunk's clean tensors in one batched pass (``predict_side``, compare's
   runner and batching: tensors grouped by shape, a rejected batch retried image by image).
3. For each transform and strength, every clean tensor of the chunk is transformed with its own
   generator, ``np.random.default_rng([seed, crc32(transform name), strength index, image
   index])`` (the image index is its place among the audited files, so image *i* sees the same
   randomness whatever else runs, fails, or how many workers decode), and the model answers them
   in one batched pass. A transform that raises on an image is that image's recorded error for
   that strength. A Keras layer's own randomness is seeded once per (transform, chunk).
4. The answers are added to running tallies (:mod:`skewcheck.augment.measure`: counts, confusion
   pairs with their first examples); :mod:`skewcheck.augment.findings` turns the totals into safe
   ranges and findings.

The value range the built-in transforms work in (``--value-range auto``) is read from the clean
tensors of the first chunk that has any: the report says so.

(Over 400 lines on purpose: :class:`_Audit` holds one chunk's tensors, the model's batched answers
and the running tallies as one state, steps 1-4 above in order; the tallies and findings live in
measure.py and findings.py.)
"""

from __future__ import annotations

import itertools
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skewcheck.augment import measure
from skewcheck.augment.findings import grade
from skewcheck.augment.report import AugmentReport
from skewcheck.augment.spec import Strength, Transform
from skewcheck.augment.value_range import ValueRange, infer_value_range
from skewcheck.comparison.detections import parse_detections
from skewcheck.comparison.outputs import OutputJudge
from skewcheck.comparison.predict import predict_side
from skewcheck.errors import AuditError, one_line, type_name
from skewcheck.images.source import ImageFile, ImageRoot
from skewcheck.pipelines.outcome import DEFAULT_MAX_TENSOR_MB, Outcome

# Images decoded, transformed and answered together. Memory holds one chunk's clean tensors and one
# (transform, strength)'s transformed copies of them; larger chunks only make fewer, larger batches.
CHUNK_IMAGES = 128
# With workers: how far decoding may run ahead of the audit (images, and bytes of tensors).
PREFETCH_IMAGES, PREFETCH_BYTES = 2 * CHUNK_IMAGES, 256 * 2**20

Detections = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class AugmentInputs:
    runner: Any  # a model runner, or None with ``load_model``
    train: Any  # a Pipeline
    files: list[tuple[str, ImageFile]]  # (name relative to --images, file), in the audited order
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
    workers: int = 0  # ≥ 1: the train pipeline decodes in that many worker processes
    root: ImageRoot | None = None  # --images, which the workers open the files under
    load_model: Callable[[], Any] | None = None  # the runner, loaded once the workers decode
    chunk: int | None = None  # images per chunk; None: CHUNK_IMAGES
    sample: dict[str, Any] | None = None  # summary.sample, when --sample drew the files


Decoded = tuple[int, str, Outcome]  # (image index among the audited files, name, the train run)


def run_augment_audit(inputs: AugmentInputs) -> AugmentReport:
    stream = _decoded(inputs)  # with workers, the pool starts now: decoding overlaps the model's load
    try:
        runner = inputs.runner if inputs.runner is not None else _load(inputs)
        audit = _Audit(inputs, runner)
        for chunk in _chunks(stream, _chunk_size(inputs)):
            audit.add(chunk)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return audit.report()


def _chunk_size(inputs: AugmentInputs) -> int:
    return max(1, inputs.chunk if inputs.chunk is not None else CHUNK_IMAGES)


def _load(inputs: AugmentInputs) -> Any:
    assert inputs.load_model is not None, "a runner or a way to load one"
    return inputs.load_model()


def _chunks(items: Iterable[Decoded], size: int) -> Iterator[list[Decoded]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _decoded(inputs: AugmentInputs) -> Iterator[Decoded]:
    """Each file's train run, in the audited order: in this process, or from compare's pool."""
    if inputs.workers < 1:
        return ((i, name, inputs.train.run(path)) for i, (name, path) in enumerate(inputs.files))
    from skewcheck.execution.pool import PipelinePool
    from skewcheck.execution.prefetch import Prefetch
    from skewcheck.native import is_verbose

    assert inputs.root is not None, "workers open the files under --images"
    pool = PipelinePool(
        {"train": inputs.train.ref},
        inputs.root,
        inputs.workers,
        verbose=is_verbose(),
        max_tensor_mb=DEFAULT_MAX_TENSOR_MB,
        sides=("train",),
    )
    pool.__enter__()  # the workers start loading the pipeline now; Prefetch.close() stops them
    runs = pool.imap((path, False) for _, path in inputs.files)
    decoded = (
        (r.index, inputs.files[r.index][0], r.first["train"]) for r in runs
    )  # the same run_image() in each worker
    return Prefetch(decoded, depth=PREFETCH_IMAGES, on_close=pool.__exit__, weigh=_bytes, budget=PREFETCH_BYTES)


def _bytes(item: Decoded) -> int:
    tensor = item[2].tensor
    return tensor.nbytes if tensor is not None else 0


def _outputs(prediction: Any) -> list[np.ndarray]:
    return list(prediction.outputs)


def _rng(seed: int, name: str, step: int, image: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8", "backslashreplace")), step, image])


@dataclass
class _Chunk:
    """One chunk's clean images the model answered: their indices, names, tensors and answers."""

    index: list[int]
    names: list[str]
    tensors: list[np.ndarray]
    outputs: list[list[np.ndarray]]
    labels: list[int | None]
    probs: np.ndarray | None = None  # classification: the clean class probabilities
    detections: list[Detections | None] = field(default_factory=list)


@dataclass
class _Strength:
    """One (transform, strength)'s running totals."""

    strength: Strength
    tally: Any
    transform_errors: int = 0
    first_error: str | None = None
    model_errors: int = 0
    postprocess_errors: int = 0


class _Audit:
    def __init__(self, inputs: AugmentInputs, runner: Any) -> None:
        self.inputs, self.runner = inputs, runner
        self.errors: Counter[str] = Counter()
        self.decoded = 0  # images the train pipeline gave a tensor for
        self.first_model_error = ""
        self.judge = OutputJudge(inputs.task, inputs.threshold, inputs.postprocess)
        self.task: str | None = None
        self.value_range: ValueRange | None = inputs.value_range
        self.range_from = "--value-range"
        self.index = 0  # which output holds the class scores
        self.chunks = 0
        # the clean images' totals
        self.images = self.labelled = self.correct = self.confident = 0
        self.detections = self.postprocess_errors = 0
        self.strengths: list[list[_Strength]] = []

    # -- one chunk ---------------------------------------------------------------------------

    def add(self, decoded: list[Decoded]) -> None:
        self.chunks += 1
        ok = [(i, name, o.tensor) for i, name, o in decoded if o.ok]
        for _, _, o in decoded:
            if not o.ok:
                self.errors[o.status] += 1
        self.decoded += len(ok)
        if not ok:
            return
        predictions = predict_side(self.runner, [t for _, _, t in ok])
        keep = [k for k, p in enumerate(predictions) if p is not None and p.outputs is not None]
        self.errors["model-error"] += len(ok) - len(keep)
        if not keep:
            if not self.first_model_error:
                self.first_model_error = (
                    next((p.error or p.skipped for p in predictions if p is not None and (p.error or p.skipped)), "")
                    or ""
                )
            return
        chunk = _Chunk(
            [ok[k][0] for k in keep],
            [ok[k][1] for k in keep],
            [ok[k][2] for k in keep],  # type: ignore[misc]
            [_outputs(predictions[k]) for k in keep],
            [self.inputs.labels.get(ok[k][1]) for k in keep],
        )
        if self.task is None:
            self._start(chunk)
        self._add_clean(chunk)
        for t, steps in zip(self.inputs.transforms, self.strengths, strict=True):
            if t.source == "keras layer":
                import keras

                keras.utils.set_random_seed(_keras_seed(self.inputs.seed, t.name, self.chunks - 1))
            for step, totals in enumerate(steps):
                self._add_strength(t, step, totals, chunk)

    def _start(self, chunk: _Chunk) -> None:
        """The first chunk the model answered: the task, the value range, the tallies."""
        if self.value_range is None:
            self.value_range, self.range_from = infer_value_range(chunk.tensors)
            if self.chunks > 1 or len(self.inputs.files) > self.chunks * _chunk_size(self.inputs):
                self.range_from += f" (read from the first {len(chunk.tensors)} answered images)"
        self.judge.kinds_for(chunk.outputs[0])
        task = self.judge.primary
        if task is None:
            raise AuditError(
                f"the model's outputs ({', '.join(self.judge.kinds)}) are neither class scores nor a dense map: "
                "pass --task embedding, or --postprocess for detections"
            )
        self.task = task
        if task == "classification":
            self.index = next(i for i, k in enumerate(self.judge.kinds) if k == "classification")
        self.strengths = [[_Strength(s, self._tally()) for s in t.strengths] for t in self.inputs.transforms]

    def _tally(self) -> Any:
        if self.task == "classification":
            return measure.ClassTally(self.inputs.confidence)
        if self.task == "detection":
            return measure.DetectionTally()
        return measure.ChangedTally()

    def _add_clean(self, chunk: _Chunk) -> None:
        self.images += len(chunk.names)
        if self.task == "classification":
            chunk.probs = measure.probabilities(np.stack([o[self.index] for o in chunk.outputs]))
            pred = chunk.probs.argmax(1)
            for r, y in enumerate(chunk.labels):
                if y is not None:
                    self.labelled += 1
                    self.correct += int(pred[r] == y)
            self.confident += int((chunk.probs.max(1) >= self.inputs.confidence).sum())
        else:
            self.labelled += sum(1 for y in chunk.labels if y is not None)
        if self.task == "detection":
            chunk.detections = [self._detect(o) for o in chunk.outputs]
            self.detections += sum(len(d[0]) for d in chunk.detections if d is not None)
            self.postprocess_errors += sum(1 for d in chunk.detections if d is None)

    def _detect(self, outputs: list[np.ndarray]) -> Detections | None:
        assert self.inputs.postprocess is not None
        try:
            return parse_detections(self.inputs.postprocess([np.asarray(o) for o in outputs]))
        except Exception:  # noqa: BLE001 (the user's post-process on one image)
            return None

    def _add_strength(self, t: Transform, step: int, totals: _Strength, chunk: _Chunk) -> None:
        assert self.value_range is not None
        rows: list[int] = []
        tensors: list[np.ndarray] = []
        moved: list[np.ndarray | None] = []
        for r, tensor in enumerate(chunk.tensors):
            boxes = None
            if self.task == "detection":
                det = chunk.detections[r]
                boxes = det[0] if det is not None else np.zeros((0, 4))
            rng = _rng(self.inputs.seed, t.name, step, chunk.index[r])
            try:
                image, new_boxes = t.apply(tensor, boxes, totals.strength, rng, self.value_range)
                if new_boxes is not None and boxes is not None and len(new_boxes) != len(boxes):
                    raise ValueError(f"the transform returned {len(new_boxes)} boxes for {len(boxes)}")
            except Exception as exc:  # noqa: BLE001 (the user's transform: its failure is recorded)
                totals.transform_errors += 1
                totals.first_error = (
                    totals.first_error or f"{chunk.names[r]}: {type_name(exc)}: {one_line(exc, limit=300)}"
                )
                continue
            rows.append(r)
            tensors.append(image)
            moved.append(new_boxes)
        if not tensors:
            return
        predictions = predict_side(self.runner, list(tensors))  # one batched pass
        ok = [k for k, p in enumerate(predictions) if p is not None and p.outputs is not None]
        totals.model_errors += len(tensors) - len(ok)
        if ok:
            self._score(
                totals, chunk, [rows[k] for k in ok], [_outputs(predictions[k]) for k in ok], [moved[k] for k in ok]
            )

    def _score(
        self,
        totals: _Strength,
        chunk: _Chunk,
        rows: list[int],
        outputs: list[list[np.ndarray]],
        moved: list[np.ndarray | None],
    ) -> None:
        names = [chunk.names[r] for r in rows]
        if self.task == "classification":
            assert chunk.probs is not None
            probs = measure.probabilities(np.stack([o[self.index] for o in outputs]))
            totals.tally.add(names, chunk.probs[rows], probs, [chunk.labels[r] for r in rows])
        elif self.task == "detection":
            targets, found, kept = [], [], []
            for r, out, boxes in zip(rows, outputs, moved, strict=True):
                det, now = chunk.detections[r], self._detect(out)
                if det is None or now is None or boxes is None:
                    continue
                area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
                inside = area > 0  # a target moved out of the image is gone from the targets
                targets.append((boxes[inside], det[1][inside], det[2][inside]))
                found.append(now)
                kept.append(chunk.names[r])
            totals.tally.add(kept, targets, found)
            totals.postprocess_errors += len(rows) - len(kept)
        else:
            totals.tally.add([self.judge.changed(chunk.outputs[r], out) for r, out in zip(rows, outputs, strict=True)])

    # -- the totals --------------------------------------------------------------------------

    @property
    def metric(self) -> str:
        if self.task == "classification" and self.labelled:
            return "accuracy"
        return "targets_agree" if self.task == "detection" else "consistency"

    def clean_summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"images": self.images}
        if self.task == "classification":
            out["accuracy"] = measure.rate(self.correct, self.labelled) if self.labelled else None
            out["confident"] = self.confident
        elif self.task == "detection":
            out["detections"] = self.detections
            out["postprocess_errors"] = self.postprocess_errors
        out[self.metric] = out.get(self.metric, 1.0)
        return out

    def _result(self, totals: _Strength, base: float) -> dict[str, Any]:
        result: dict[str, Any] = {"strength": totals.strength, "transform_errors": totals.transform_errors}
        if totals.first_error:
            result["first_error"] = totals.first_error
        result["model_errors"] = totals.model_errors
        tally = totals.tally
        if tally.n == 0 and not (self.task == "detection" and totals.postprocess_errors):
            result["images"] = 0
            return result
        scored = tally.result() if isinstance(tally, measure.ChangedTally) else tally.result(self.inputs.break_share)
        if self.task == "detection":
            scored["postprocess_errors"] = totals.postprocess_errors
        result.update(scored)
        value = scored.get(self.metric)
        result["drop_points"] = None if value is None else round(100 * (base - value), 4)
        return result

    def _entry(self, t: Transform, steps: list[_Strength], base: float) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": t.name,
            "source": t.source,
            "builtin": t.builtin,
            "unit": t.unit,
            "configured": list(t.configured) if t.configured else None,
            "strengths": list(t.strengths),
            "moves_boxes": t.moves_boxes,
            "results": [self._result(s, base) for s in steps],
        }
        failed = [r for r in entry["results"] if not r["images"]]
        if failed and len(failed) == len(entry["results"]):
            entry["error"] = failed[0].get("first_error") or "no image could be transformed"
        return entry

    def report(self) -> AugmentReport:
        inputs = self.inputs
        if not self.decoded:
            raise AuditError(f"the train pipeline produced no tensor for any of the {len(inputs.files)} images")
        if not self.images:
            raise AuditError(f"the model answered none of the {self.decoded} clean images ({self.first_model_error})")
        assert self.value_range is not None
        clean = self.clean_summary()
        base = float(clean[self.metric] or 0.0)
        transforms = [self._entry(t, steps, base) for t, steps in zip(inputs.transforms, self.strengths, strict=True)]
        summary: dict[str, Any] = {
            "files": len(inputs.files),
            "images": self.images,
            "pipeline_errors": dict(sorted((+self.errors).items())),
            "labelled": self.labelled,
            "task": self.task,
            "metric": self.metric,
            "clean": clean,
            "value_range": list(self.value_range),
            "value_range_from": self.range_from,
            "seed": inputs.seed,
            "confidence": inputs.confidence,
            "break_share": inputs.break_share,
            "max_drop_points": inputs.max_drop,
            "model_passes": 1 + sum(len(t["results"]) for t in transforms if t.get("error") is None),
            "chunk_images": _chunk_size(inputs),
            "chunks": self.chunks,
        }
        if inputs.sample is not None:
            summary["sample"] = inputs.sample
        findings = grade(transforms, summary, inputs.class_names)
        return AugmentReport(
            gate=inputs.gate,
            model=self.runner.info.to_dict(),
            train={"ref": inputs.train.ref, "description": getattr(inputs.train, "description", "")},
            augment={"ref": inputs.spec_ref, "transforms": len(inputs.transforms)},
            summary=summary,
            transforms=transforms,
            findings=findings,
            class_names=inputs.class_names,
        )


def _keras_seed(seed: int, name: str, chunk: int) -> int:
    """A Keras layer's seed for one chunk: its draws depend on the chunk, never on the worker count."""
    state = np.random.SeedSequence([seed, zlib.crc32(name.encode("utf-8", "backslashreplace")), chunk])
    return int(state.generate_state(1)[0] % 2**31)
