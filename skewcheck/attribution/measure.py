"""Measure each finding's repair on its sampled images, chunk by chunk, while the tensors exist."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skewcheck.attribution.sample import PER_FINDING, AttributionSample
from skewcheck.comparison.metrics import as_probabilities, is_class_scores, mean_abs_diff
from skewcheck.diagnose.context import PairContext, align_layout
from skewcheck.diagnose.repair import repaired_serve
from skewcheck.findings import Observation

Key = tuple[str, str | None, str]
ALL = ("*all*", None, "")  # the tally of every repair of an image applied together


@dataclass
class Tally:
    """Counts over one finding's images: all of them (``images``…) and the sampled ones."""

    images: int = 0  # images the finding covers with predictions on both sides
    flipped_images: int = 0
    sampled: int = 0
    sampled_flipped: int = 0
    recovered: int = 0  # sampled flipped images whose top-1 the repair alone brings back
    agreeing: int = 0  # sampled agreeing images with a prediction after the fix
    broken: int = 0  # of those, the ones the repair alone makes disagree
    credited: int = 0  # sampled flipped images credited to this finding (each flip to one finding)
    agree_after: int = 0
    predicted: int = 0  # sampled images with predictions after the fix
    correct_delta_flipped: int = 0  # labelled accuracy change on the sampled flipped images
    correct_delta_agreeing: int = 0
    labelled: int = 0
    correct_after: int = 0
    diff_before: float = 0.0
    diff_after: float = 0.0
    diffs: int = 0
    without_left: float = 0.0  # Σ difference left by every other repair of the image (this one left out)
    with_left: float = 0.0  # Σ difference left by every repair of the image
    shift_before: float = 0.0  # class outputs: total variation between train's and serve's probabilities
    shift_after: float = 0.0
    shifts: int = 0
    output_before: float = 0.0  # non-class outputs: mean |train - serve| before and after the fix
    output_after: float = 0.0
    outputs: int = 0


@dataclass
class _Request:
    train_top1: int | None
    serve_top1: int | None
    label: int | None
    train_outputs: list[np.ndarray] | None
    serve_outputs: list[np.ndarray] | None
    repairs: dict[Key, np.ndarray] = field(default_factory=dict)
    diff_before: float | None = None
    diff_after: dict[Key, float] = field(default_factory=dict)
    left_without: dict[Key, float] = field(default_factory=dict)  # diff left by all repairs but this one
    left_with_all: float | None = None
    unchanged: bool = False  # the all-fixes tensor is serve's own: its prediction is known already
    changed: bool | None = None  # dense / embedding / detection: the task's own test, train vs serve


class Attributor:
    def __init__(self, total: int, runner: Any = None, seed: int = 0, judge: Any = None) -> None:
        self.sample = AttributionSample(total, seed)
        self.runner = runner
        self.judge = judge  # skewcheck.comparison.outputs.OutputJudge: "changed" for non-class tasks
        self.tallies: dict[Key, Tally] = defaultdict(Tally)
        self._pending: list[_Request] = []

    def offer(
        self,
        index: int,
        ctx: PairContext,
        observations: list[Observation],
        predictions: dict[str, Any],
        label: int | None,
    ) -> None:
        """Queue the repairs of this image if it is sampled; count it for its findings anyway."""
        keys: dict[Key, tuple[str, ...]] = {}
        for obs in observations:
            if obs.repair:
                keys[obs.key] = tuple(sorted(set(keys.get(obs.key, ())) | set(obs.repair)))
        in_sample = index in self.sample
        if not keys and not in_sample:
            return
        train_out, serve_out = (_outputs(predictions.get(side)) for side in ("train", "serve"))
        train_top1, serve_top1 = self._top1(train_out), self._top1(serve_out)
        task, changed = self._changed(train_out, serve_out)
        if task:  # a non-class task: "the answer changed" counts as the flip, no top-1 applies
            train_top1 = serve_top1 = None
        flipped = bool(changed) or (train_top1 is not None and serve_top1 is not None and train_top1 != serve_top1)
        predicted = changed is not None or (train_top1 is not None and serve_top1 is not None)
        for key in keys:
            tally = self.tallies[key]
            tally.images += int(predicted)
            tally.flipped_images += int(flipped)
        wanted = in_sample or any(
            self.tallies[k].sampled < PER_FINDING or (flipped and self.tallies[k].sampled_flipped < PER_FINDING)
            for k in keys
        )
        if not wanted:
            return
        request = _Request(train_top1, serve_top1, label, train_out, serve_out, changed=changed)
        request.diff_before = _diff(ctx, ctx.serve.tensor)
        repairs = _RepairsOf(ctx, request.diff_before)  # each set of components repaired once per image
        for key, components in keys.items():
            tensor = repairs.tensor(components)
            if tensor is not None:
                request.repairs[key] = tensor
        every = tuple(sorted({c for comps in keys.values() for c in comps}))
        if in_sample:
            tensor = repairs.tensor(every) if every else ctx.serve.tensor
            if tensor is not None:
                request.repairs[ALL] = tensor
                request.unchanged = not every
        for key, components in [*keys.items(), (ALL, every)]:
            if key in request.repairs:
                after = repairs.diff(components)
                if after is not None:
                    request.diff_after[key] = after
        # leave-one-out: what each repair adds to all the others (a cause that adds nothing is residue)
        request.left_with_all = repairs.diff(every)
        for key in keys:
            left = repairs.diff(tuple(sorted({c for k, comps in keys.items() if k != key for c in comps})))
            if left is not None:
                request.left_without[key] = left
        self._pending.append(request)

    def flush(self) -> None:
        """Run the model on the queued repaired tensors (one batched call) and tally the results."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        order = [(r, key) for r in pending for key in r.repairs if not (key == ALL and r.unchanged)]
        outputs: list[list[np.ndarray] | None] = [None] * len(order)
        if self.runner is not None and order:
            from skewcheck.comparison.predict import predict_side

            preds = predict_side(self.runner, [r.repairs[key] for r, key in order])
            outputs = [_outputs(p) for p in preds]
        after: dict[int, dict[Key, list[np.ndarray] | None]] = defaultdict(dict)
        for (request, key), out in zip(order, outputs, strict=True):
            after[id(request)][key] = out
        for request in pending:
            if request.unchanged:
                after[id(request)][ALL] = request.serve_outputs
            self._tally(request, after[id(request)])

    def _top1(self, outputs: list[np.ndarray] | None) -> int | None:
        return self.judge.top1(outputs) if self.judge is not None else top1(outputs)

    @property
    def _head(self) -> int | None | str:
        """The classifier's output index; FIRST (the first 1-D output) without a judge."""
        return self.judge.class_index if self.judge is not None and self.judge.plan is not None else FIRST

    def _changed(self, train: list[np.ndarray] | None, other: list[np.ndarray] | None) -> tuple[bool, bool | None]:
        """(whether the run's task is dense / embedding / detection, whether ``other`` changed the
        answer against ``train`` by that task's test; None: it cannot be told)."""
        if self.judge is None or not train or not self.judge.judges(train):
            return False, None
        return True, self.judge.changed(train, other)

    def _tally(self, request: _Request, after: dict[Key, list[np.ndarray] | None]) -> None:
        judged = request.changed is not None
        predicted = judged or (request.train_top1 is not None and request.serve_top1 is not None)
        flipped = bool(request.changed) if judged else predicted and request.train_top1 != request.serve_top1
        recovered_by: list[Key] = []
        for key in request.repairs:
            tally = self.tallies[key]
            tally.sampled += 1
            tally.sampled_flipped += int(flipped)
            if request.diff_before is not None and key in request.diff_after:
                tally.diff_before += request.diff_before
                tally.diff_after += request.diff_after[key]
                tally.diffs += 1
                if key in request.left_without and request.left_with_all is not None:
                    tally.without_left += request.left_without[key]
                    tally.with_left += request.left_with_all
            out = after.get(key)
            if judged:  # the repaired answer against train's, by the task's own test
                still = self._changed(request.train_outputs, out)[1]
                agrees = None if still is None else not still
            else:
                fixed_top1 = self._top1(out)
                agrees = None if fixed_top1 is None else fixed_top1 == request.train_top1
            if predicted and agrees is not None:
                tally.predicted += 1
                tally.agree_after += int(agrees)
                tally.recovered += int(flipped and agrees)
                tally.agreeing += int(not flipped)
                tally.broken += int(not flipped and not agrees)
                if flipped and agrees:
                    recovered_by.append(key)
                if request.label is not None and not judged:  # labels are class labels
                    before_ok, after_ok = int(request.serve_top1 == request.label), int(fixed_top1 == request.label)
                    tally.labelled += 1
                    tally.correct_after += after_ok
                    if flipped:
                        tally.correct_delta_flipped += after_ok - before_ok
                    else:
                        tally.correct_delta_agreeing += after_ok - before_ok
            shift = None if judged else _shift(request.train_outputs, request.serve_outputs, self._head)
            shift_after = None if judged else _shift(request.train_outputs, out, self._head)
            if shift is not None and shift_after is not None:
                tally.shift_before += shift
                tally.shift_after += shift_after
                tally.shifts += 1
            moved = _output_distance(request.train_outputs, request.serve_outputs, self._head)
            if moved is not None and out is not None:
                after_moved = _output_distance(request.train_outputs, out, self._head)
                if after_moved is not None:
                    tally.output_before += moved
                    tally.output_after += after_moved
                    tally.outputs += 1
        if flipped:
            self._credit(request, recovered_by)

    def _credit(self, request: _Request, recovered_by: list[Key]) -> None:
        """Each flip goes to one finding: the repair that recovers it alone and removes the most
        difference; failing that (a flip only several fixes together undo), the repair that
        removes the most difference. A flip no repair touches stays unexplained."""
        candidates = [k for k in (recovered_by or list(request.repairs)) if k != ALL]
        if not candidates:
            return

        def removed(key: Key) -> float:
            before = request.diff_before or 0.0
            return before - request.diff_after.get(key, before)

        best = max(candidates, key=lambda k: (removed(k), k[0]))
        if recovered_by or removed(best) > 0:
            self.tallies[best].credited += 1


class _RepairsOf:
    """One image's repaired tensors and their differences to train, by set of components."""

    def __init__(self, ctx: PairContext, diff_before: float | None) -> None:
        self.ctx = ctx
        self._tensors: dict[tuple[str, ...], np.ndarray | None] = {(): ctx.serve.tensor}
        self._diffs: dict[tuple[str, ...], float | None] = {(): diff_before}

    def tensor(self, components: tuple[str, ...]) -> np.ndarray | None:
        if components not in self._tensors:
            self._tensors[components] = repaired_serve(self.ctx, components)
        return self._tensors[components]

    def diff(self, components: tuple[str, ...]) -> float | None:
        if components not in self._diffs:
            self._diffs[components] = _diff(self.ctx, self.tensor(components))
        return self._diffs[components]


def _outputs(pred: Any) -> list[np.ndarray] | None:
    return pred.outputs if pred is not None and getattr(pred, "outputs", None) is not None else None


def top1(outputs: list[np.ndarray] | None) -> int | None:
    """The first 1-D output's top class (no head plan: an endpoint's replay)."""
    if not outputs:
        return None
    scores = _class_scores(outputs, FIRST)
    return int(np.argmax(scores)) if scores is not None else None


FIRST = "first"  # no head plan: the first 1-D output is the classifier


def _class_scores(outputs: list[np.ndarray] | None, head: int | None | str) -> np.ndarray | None:
    if not outputs or head is None:
        return None
    if head == FIRST:
        return next((o for o in outputs if is_class_scores(o)), None)
    assert isinstance(head, int)
    return outputs[head] if head < len(outputs) and is_class_scores(outputs[head]) else None


def _shift(a: list[np.ndarray] | None, b: list[np.ndarray] | None, head: int | None | str = FIRST) -> float | None:
    """Total variation distance between two predictions' class probabilities (0 same, 1 disjoint)."""
    pa, pb = _class_scores(a, head), _class_scores(b, head)
    if pa is None or pb is None or pa.shape != pb.shape:
        return None
    return 0.5 * float(np.sum(np.abs(as_probabilities(pa) - as_probabilities(pb))))


def _output_distance(
    a: list[np.ndarray] | None, b: list[np.ndarray] | None, head: int | None | str = FIRST
) -> float | None:
    """Mean |Δ| over the non-class outputs (dense maps, embeddings, boxes…) of two predictions."""
    if not a or not b or len(a) != len(b):
        return None
    total, count = 0.0, 0
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        is_head = is_class_scores(x) if head == FIRST else i == head
        if is_head or x.shape != y.shape or not np.issubdtype(x.dtype, np.number):
            continue
        d = np.abs(x.astype(np.float64) - y.astype(np.float64))
        total += float(np.nansum(d))
        count += d.size
    return total / count if count else None


def _diff(ctx: PairContext, tensor: np.ndarray | None) -> float | None:
    """Mean |train - tensor| in train's layout, or None when the shapes cannot be aligned."""
    t = ctx.train.tensor
    if (
        tensor is None
        or t is None
        or not np.issubdtype(tensor.dtype, np.number)
        or not np.issubdtype(t.dtype, np.number)
    ):
        return None
    if tensor.shape != t.shape:
        tensor, _ = align_layout(t.shape, tensor)
        if tensor is None or tensor.shape != t.shape:
            return None
    value = mean_abs_diff(t, tensor)  # in blocks: no full-size float64 copies
    return value if np.isfinite(value) else None
