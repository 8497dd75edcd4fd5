"""One pair's part of the audit (skewcheck/audit.py): its record, metrics, diagnosis and tallies.

:func:`finish_pair` runs the steps in a fixed order (the record's keys, the summary's counts and
the collector's images come out in that order, so the report is the same run after run): the
record's outcomes, the model's view of each side, the probe's expectation, the tensor metrics, the
prediction metrics, the diagnosis and what it adds to the run's tallies, the worst images and the
examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from skewcheck.attribution import Attributor
from skewcheck.attribution.damage import DamageTally
from skewcheck.comparison.metrics import (
    as_probabilities,
    compare_class_scores,
    compare_output,
    input_distance_db,
    tensor_metrics,
)
from skewcheck.comparison.outputs import OutputJudge
from skewcheck.comparison.summary import SIDES, RunningSummary
from skewcheck.diagnose import diagnose
from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.run_state import RunState
from skewcheck.execution.pair import Pair
from skewcheck.findings import FindingCollector, Severity
from skewcheck.probes.expectations import ProbeExpectations
from skewcheck.report.thumbnails import ExampleStore, example_key

if TYPE_CHECKING:
    from skewcheck.audit import AuditInputs
    from skewcheck.probes.model import ProbeEntry


@dataclass
class Tallies:
    """What the audit keeps across pairs: running totals, findings, examples, the gate's damage."""

    summary: RunningSummary
    collector: FindingCollector
    expectations: ProbeExpectations
    diagnosis: RunState  # what the detectors keep across the audit's images
    examples: ExampleStore
    attributor: Attributor
    damage: DamageTally  # what the gate reads: input distances, paired correctness


@dataclass
class _ModelView:
    """What the model said of each side's tensor, for the detectors."""

    dtype: str | None
    mismatches: dict[str, list[Any]]
    skipped: dict[str, str | None]
    errors: dict[str, str | None]


def finish_pair(inputs: AuditInputs, pair: Pair, tallies: Tallies) -> dict[str, Any]:
    """The pair's record (one line of the report's ``images``), its findings offered to the tallies."""
    summary = tallies.summary
    statuses = {"train": pair.train.status, "serve": pair.serve.status}
    summary.add_outcomes(statuses)
    probe = inputs.probes.get(pair.path)
    label = inputs.labels.get(pair.path)
    record = _record(pair, probe, label)
    model = _model_view(inputs, pair, record, summary)
    deviates = tallies.expectations.check(pair.path, probe, pair.train, pair.serve)
    if deviates:
        record["probe"]["deviates"] = deviates
    ctx = _context(inputs, pair, tallies, probe, deviates, model)
    aligned, _ = ctx.aligned_serve
    metrics = _tensor_metrics(pair, ctx, aligned, summary, tallies.damage)
    _prediction_metrics(inputs, pair, ctx, metrics, label, summary)
    record["metrics"] = metrics

    observations = diagnose(ctx)
    pair.finding_keys = frozenset(o.key for o in observations)
    flipped = bool(ctx.prediction and ctx.prediction.flipped) or bool(ctx.answer_changed)
    _tally(pair, ctx, observations, flipped, label, deviates, metrics, tallies)
    record["findings"] = sorted({o.kind for o in observations})
    if ctx.detector_errors:
        record["diagnosis_errors"] = ctx.detector_errors
    if probe is not None:
        summary.add_probe(probe, statuses, differs=bool(observations), deviates=deviates)
    _offer_worst(pair, observations, flipped, metrics, record, aligned, tallies)
    return record


def _record(pair: Pair, probe: ProbeEntry | None, label: int | None) -> dict[str, Any]:
    record: dict[str, Any] = {"path": pair.path}
    if probe is not None:
        record["probe"] = {"kind": probe.kind, "category": getattr(probe, "category", None), "expect": probe.expect}
    record["train"], record["serve"] = pair.train.summary(), pair.serve.summary()
    if label is not None:
        record["label"] = label
    return record


def _model_view(inputs: AuditInputs, pair: Pair, record: dict[str, Any], summary: RunningSummary) -> _ModelView:
    """The model's input dtype, and per side its predictions' summary (into ``record``), mismatches and error."""
    view = _ModelView(None, {}, {}, {})
    if inputs.runner is not None and inputs.runner.info.inputs:
        view.dtype = inputs.runner.info.inputs[0].dtype or None
        if view.dtype in ("any", ""):
            view.dtype = None
    for side in SIDES:
        pred = pair.predictions.get(side)
        if pred is None:
            continue
        record[side]["model"] = pred.summary()
        if pred.error:
            summary.add_model_error(side)
        view.mismatches[side], view.skipped[side] = [m for m in pred.mismatches if m.kind != "dtype"], pred.skipped
        view.errors[side] = pred.error
    return view


def _context(
    inputs: AuditInputs,
    pair: Pair,
    tallies: Tallies,
    probe: ProbeEntry | None,
    deviates: dict[str, bool],
    model: _ModelView,
) -> PairContext:
    return PairContext(
        pair.path,
        pair.train,
        pair.serve,
        probe=probe,
        model_dtype=model.dtype,
        file=pair.file,
        repeats=pair.repeats,
        deviates=deviates,
        run=tallies.diagnosis,
        tolerance=(inputs.config.gate.atol, inputs.config.gate.rtol),
        model_expects=inputs.model_expects,
        model_mismatches=model.mismatches,
        model_skipped=model.skipped,
        model_errors=model.errors,
        facts=pair.facts,
    )


def _tensor_metrics(
    pair: Pair, ctx: PairContext, aligned: np.ndarray | None, summary: RunningSummary, damage: DamageTally
) -> dict[str, Any]:
    """``{"tensor": ...}`` where both sides gave comparable numbers, else ``{}``."""
    metrics: dict[str, Any] = {}
    if aligned is not None and pair.train.tensor is not None and np.issubdtype(aligned.dtype, np.number):
        metrics["tensor"] = {**tensor_metrics(pair.train.tensor, aligned), "within_tolerance": ctx.within_tolerance}
        summary.add_tensor_diff(metrics["tensor"]["max_abs_diff"])
        distance = input_distance_db(pair.train.tensor, aligned)
        if distance is not None:
            metrics["tensor"]["input_distance_db"] = distance
            metrics["tensor"]["gross"] = damage.add_distance(pair.path, distance)
    return metrics


def _prediction_metrics(
    inputs: AuditInputs,
    pair: Pair,
    ctx: PairContext,
    metrics: dict[str, Any],
    label: int | None,
    summary: RunningSummary,
) -> None:
    """The model's side of ``metrics`` and of ``ctx`` (the detectors read whether the answer changed)."""
    ctx.prediction, ctx.outputs_within_tolerance, output_metrics, answer = _compare_predictions(
        inputs, pair, summary, label
    )
    if ctx.prediction is not None:
        metrics["prediction"] = ctx.prediction.to_dict()
    if output_metrics:
        metrics["outputs"] = output_metrics
    if answer is not None:  # dense / embedding / detection: did the model's answer change
        metrics["answer"] = answer
        ctx.answer_changed = answer["changed"]


def _tally(
    pair: Pair,
    ctx: PairContext,
    observations: list[Any],
    flipped: bool,
    label: int | None,
    deviates: dict[str, bool],
    metrics: dict[str, Any],
    tallies: Tallies,
) -> None:
    """The pair's diagnosis into the run's findings, the gate's damage and the repair sample."""
    correct = _correct(pair, label, tallies.summary.outputs)
    tallies.damage.add_correct(correct)
    tallies.collector.add_image(
        pair.path,
        observations,
        flipped,
        deviating=_deviating_side(deviates),
        correct=correct,
        gross=bool(metrics.get("tensor", {}).get("gross")),
    )
    tallies.attributor.offer(pair.index, ctx, observations, pair.predictions, label)


def _offer_worst(
    pair: Pair,
    observations: list[Any],
    flipped: bool,
    metrics: dict[str, Any],
    record: dict[str, Any],
    aligned: np.ndarray | None,
    tallies: Tallies,
) -> None:
    """The pair as a candidate for the worst images and, where it has findings, for their examples."""
    worst = max((o.severity for o in observations), default=Severity.INFO) if observations else -1
    score = (
        float(flipped),
        float(worst),
        metrics.get("prediction", {}).get("max_abs_dp", 0.0),
        metrics.get("tensor", {}).get("mean_abs_diff", 0.0),
    )
    if observations or flipped:
        tallies.summary.consider_worst(
            score,
            {
                "path": pair.path,
                "findings": record["findings"],
                "flipped": flipped,
                "metrics": metrics,
                "train": record["train"]["status"],
                "serve": record["serve"]["status"],
            },
        )
    if observations:
        tallies.examples.offer_image(
            pair.path,
            [example_key(o.key) for o in observations],
            score,
            (pair.train.tensor, pair.serve.tensor, aligned),
            record,
            flipped,
        )


def _correct(pair: Pair, label: int | None, judge: OutputJudge) -> dict[str, bool] | None:
    """Per side, whether the top-1 class is the label (None without a label or a class output)."""
    tops = {side: judge.top1(getattr(pair.predictions.get(side), "outputs", None)) for side in SIDES}
    if label is None or None in tops.values():
        return None
    return {side: tops[side] == label for side in SIDES}


def _deviating_side(deviates: dict[str, bool]) -> str | None:
    sides = [side for side, wrong in deviates.items() if wrong]
    return sides[0] if len(sides) == 1 else ("both" if len(sides) == 2 else None)


def _compare_predictions(
    inputs: AuditInputs, pair: Pair, summary: RunningSummary, label: int | None
) -> tuple[Any, bool | None, list[dict[str, Any]], dict[str, Any] | None]:
    preds = {side: pair.predictions.get(side) for side in SIDES}
    outs = {side: (p.outputs if p is not None else None) for side, p in preds.items()}
    judge = summary.outputs
    for side in SIDES:
        class_out = judge.class_output(outs[side])
        if class_out is not None:
            probs = as_probabilities(class_out)
            top1 = int(np.argmax(probs))
            summary.add_confidence(side, pair.path, float(probs[top1]), top1, label)
            if label is not None:
                summary.add_label(side, label, top1)
    if outs["train"] is None or outs["serve"] is None:
        return None, None, [], None
    cmp = None
    within: bool | None = None
    output_metrics = []
    by_kind, answer = judge.compare(outs["train"], outs["serve"])
    for index, (a, b) in enumerate(zip(outs["train"], outs["serve"], strict=True)):
        if cmp is None and index == judge.class_index and b.shape == a.shape:
            cmp = compare_class_scores(a, b)
            summary.add_prediction(cmp, label)
            continue
        stats = compare_output(a, b, inputs.config.gate.atol, inputs.config.gate.rtol)
        output_metrics.append({"output": index, **stats, **by_kind[index]})
        within = stats["within_tolerance"] if within is None else (within and stats["within_tolerance"])
    return cmp, within, output_metrics, answer
