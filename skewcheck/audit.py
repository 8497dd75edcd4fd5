"""The audit loop: images → pipelines → model → comparison → detectors → findings → report.

Images stream through in chunks of ``batch_size``: tensors live only while their chunk is being
compared; what survives is one small record per image (in a temporary JSON Lines file, see
``skewcheck.report.records``), running totals and a few examples.

The pairs come from the engine :func:`skewcheck.execution.engine.get_engine` picks (this process,
a worker pool or Ray: skewcheck/execution/__init__.py says how they differ, and what they share);
what the audit does with each pair is :func:`skewcheck.audit_pair.finish_pair`.
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from skewcheck import __version__
from skewcheck.attribution import Attributor, grade_and_rank, repeat_indices
from skewcheck.attribution.damage import GROSS_DB, DamageTally, assess
from skewcheck.attribution.grade import RunTotals, after_all_fixes
from skewcheck.attribution.sample import miss_probability
from skewcheck.audit_pair import Tallies, finish_pair
from skewcheck.comparison.heads import check_choices
from skewcheck.comparison.intervals import sample_intervals
from skewcheck.comparison.outputs import OutputJudge
from skewcheck.comparison.summary import SIDES, RunningSummary
from skewcheck.diagnose import settle
from skewcheck.diagnose.run_state import RunState
from skewcheck.execution.engine import get_engine
from skewcheck.execution.model_stage import predict_chunk
from skewcheck.execution.pair import Pair
from skewcheck.findings import FindingCollector
from skewcheck.images.source import ImageFile, ImageRoot
from skewcheck.native import single_threaded_blas
from skewcheck.pipelines.base import Pipeline
from skewcheck.pipelines.declarative.divergence import divergence_tracer
from skewcheck.pipelines.source import pipeline_source
from skewcheck.probes.expectations import ProbeExpectations
from skewcheck.report.model import Report
from skewcheck.report.records import RecordFile
from skewcheck.report.thumbnails import ExampleStore
from skewcheck.trace.locations import line_tracer

if TYPE_CHECKING:
    from skewcheck.config.audit_config import AuditConfig
    from skewcheck.models.base import ModelRunner
    from skewcheck.models.inspect import ExpectedInput
    from skewcheck.probes.model import ProbeEntry
    from skewcheck.serving.side import EndpointSide

ProgressFn = Callable[[int, int], None]  # (done, total)


@dataclass
class AuditInputs:
    """What the audit runs on: its configuration, and what was loaded from it (skewcheck/api.py)."""

    config: AuditConfig  # the options, validated once
    train: Pipeline
    serve: Pipeline
    files: Iterable[ImageFile]  # a list, or skewcheck.images.discover.ImageFiles (re-iterable, with a length)
    root: ImageRoot  # the --images folder: local, or one a URI names
    runner: ModelRunner | None = None  # None: a tensor-only audit
    labels: dict[str, int] = field(default_factory=dict)
    class_names: list[str] | None = None
    probes: dict[str, ProbeEntry] = field(default_factory=dict)  # image path → its probe entry
    model_expects: ExpectedInput | None = None  # for the range lint
    workers: int = 0  # 0: pipelines run in this process; N: in a pool of N worker processes ("auto" resolved)
    postprocess: Callable[[list[np.ndarray]], Any] | None = None  # detections: raw outputs -> boxes, scores, labels
    serve_source: EndpointSide | None = None  # serve's predictions from a live endpoint, not the runner
    # the model, loaded once the workers are decoding the first images (its TensorFlow import
    # overlaps them); sets ``runner`` and ``model_expects`` (skewcheck.api: --workers with a model path)
    load_runner: Callable[[], tuple[ModelRunner | None, ExpectedInput | None]] | None = None
    engine: Any = None  # a skewcheck.execution.engine.Engine built by the API (Ray); None: get_engine picks a local one
    sample: dict[str, Any] | None = None  # --sample: how the images were drawn (summary.sample)


def run_audit(inputs: AuditInputs, progress: ProgressFn | None = None) -> Report:
    expectations = ProbeExpectations(inputs.probes)
    files = expectations.bases_first(inputs.files, inputs.root)
    total = len(files)  # type: ignore[arg-type]  # a list or ImageFiles: both have a length
    repeats = repeat_indices(total, inputs.config.images.seed + 1)
    diagnosis = RunState()  # what the detectors keep across images, which the pair facts are measured against
    with (
        contextlib.closing(get_engine(inputs, diagnosis).pairs(inputs.root, files, repeats)) as stream,
        single_threaded_blas(),
    ):  # closing stops the pool, or Ray
        if inputs.load_runner is not None:  # the workers decode the first images meanwhile
            inputs.runner, inputs.model_expects = inputs.load_runner()
            inputs.load_runner = None
        return _audit(inputs, stream, total, repeats, expectations, progress, diagnosis)


def output_judge(inputs: AuditInputs) -> OutputJudge:
    """The judge of the model's outputs, with what it needs to tell the heads apart: the outputs'
    names, the user's ``--output`` choices, the largest label, the model input's longer side."""
    info = getattr(inputs.runner, "info", None)
    names = [spec.name for spec in getattr(info, "outputs", None) or []]
    spec = info.inputs[0] if info is not None and info.inputs else None
    sides = [n for n in (spec.shape[1:] if spec is not None else ()) if isinstance(n, int) and n > 4]
    if names and inputs.config.model.outputs:  # a choice the model cannot meet is a usage error before any image
        check_choices(inputs.config.model.outputs, names)
    return OutputJudge(
        inputs.config.model.task,
        inputs.config.model.threshold,
        inputs.postprocess,
        choices=inputs.config.model.outputs,
        names=names,
        max_label=max(inputs.labels.values()) if inputs.labels else None,
        input_side=max(sides) if sides else None,
    )


@dataclass
class _Run:
    """One audit's state between its chunks: the tallies, the records on disk, and the tracers and
    the replayer that watch the pairs go by (None where they do not apply)."""

    judge: OutputJudge
    tallies: Tallies
    records: RecordFile  # one record per image, on disk as it is made: memory stays flat
    tracer: Any  # the first diverging step: both pipelines declarative
    lines: Any  # the diverging source lines: both Python callables, traced after the audit
    replayer: Any  # an endpoint without tensors: its candidate skews replayed at the end


def _audit(
    inputs: AuditInputs,
    stream: Iterable[Pair],
    total: int,
    repeats: frozenset[int],
    expectations: ProbeExpectations,
    progress: ProgressFn | None,
    diagnosis: RunState,
) -> Report:
    run = _start(inputs, total, expectations, diagnosis)
    done = 0
    for pairs in _chunks(stream, max(1, inputs.config.model.batch_size)):
        _run_chunk(inputs, run, pairs)
        done += len(pairs)
        if progress is not None:
            progress(done, total)
    return _report(inputs, run, repeats)


def _start(inputs: AuditInputs, total: int, expectations: ProbeExpectations, diagnosis: RunState) -> _Run:
    judge = output_judge(inputs)
    summary = RunningSummary(inputs.class_names, outputs=judge)
    collector = FindingCollector()
    examples = ExampleStore()
    records = RecordFile()
    damage = DamageTally()
    tracer = divergence_tracer(inputs.train, inputs.serve, inputs.config.gate.atol, inputs.config.gate.rtol)
    lines = line_tracer(inputs.train, inputs.serve)
    attributor = Attributor(total, inputs.runner, inputs.config.images.seed, judge=judge)
    tallies = Tallies(summary, collector, expectations, diagnosis, examples, attributor, damage)
    return _Run(judge, tallies, records, tracer, lines, _replayer(inputs, total))


def _run_chunk(inputs: AuditInputs, run: _Run, pairs: list[Pair]) -> None:
    """One chunk: its predictions (where the engine gave none), each pair finished, the repaired
    tensors through the model, then the chunk's tensors let go."""
    if inputs.runner is not None and not all(p.predictions for p in pairs):  # an engine may have predicted
        sides = [{"train": p.train, "serve": p.serve} for p in pairs]
        predicted = predict_chunk(inputs.runner, sides, inputs.serve_source, [p.file for p in pairs])
        for pair, pred in zip(pairs, predicted, strict=True):
            pair.predictions.update(pred)
    if run.replayer is not None:  # keeps train's tensor of its sample, to replay candidate skews at the end
        for pair in pairs:
            run.replayer.offer(
                pair.index,
                pair.path,
                pair.file,
                pair.train.tensor,
                pair.predictions.get("train"),
                pair.predictions.get("serve"),
                inputs.labels.get(pair.path),
            )
    for pair in pairs:
        with np.errstate(all="ignore"), warnings.catch_warnings():  # odd tensors: numbers, not noise
            warnings.simplefilter("ignore", RuntimeWarning)
            run.records.append(finish_pair(inputs, pair, run.tallies))
        if run.tracer is not None:
            run.tracer.offer(pair.file, pair.path, pair.train, pair.serve)
        if run.lines is not None:
            run.lines.offer(pair.file, pair.path, pair.train, pair.serve, pair.finding_keys)
    with np.errstate(all="ignore"):
        run.tallies.attributor.flush()  # the repaired tensors of this chunk through the model, batched
    for pair in pairs:
        pair.train.tensor = pair.serve.tensor = None  # let the chunk's tensors go


def _report(inputs: AuditInputs, run: _Run, repeats: frozenset[int]) -> Report:
    tallies, summary = run.tallies, run.tallies.summary
    audit_error = _audit_error(inputs, summary)
    summary_dict = summary.to_dict()
    fixed = after_all_fixes(tallies.attributor)
    if fixed is not None:
        summary_dict["after_all_fixes"] = fixed
    summary_dict["repeats"] = {"images": len(repeats), "miss_odds_at_5pct": round(miss_probability(len(repeats)), 6)}
    # searches stopped after the first images, and fits narrowed to what the first images chose
    summary_dict["diagnosis"] = {"settled": settle.settled(tallies.diagnosis), "narrowed": tallies.diagnosis.narrowed()}
    totals = _totals(inputs, run, summary_dict)
    findings = tallies.collector.findings()
    if run.replayer is not None:  # an endpoint without tensors: its candidates' findings, graded like repairs
        findings, replayed, summary_dict["replay"] = run.replayer.finish(findings)
        tallies.attributor.tallies.update(replayed)
    if inputs.serve_source is not None:
        summary_dict["endpoint"] = inputs.serve_source.stats(summary.images)
    ranked = grade_and_rank(findings, tallies.attributor, totals, tallies.collector.flipped_sets)
    line_trace = run.lines.attach(ranked) if run.lines is not None else None  # a few images, off the hot path
    answer = "answers change" if run.judge.judges(None) else "predictions flip"
    damage = tallies.damage
    gate_damage = assess(
        damage, changed=totals.flips, judged=totals.predicted, answer=answer, findings=ranked, images=summary.images
    )
    summary_dict["input_distance"] = {"measured": damage.measured, "gross": damage.gross, "threshold_db": GROSS_DB}
    if inputs.sample is not None:
        summary_dict["sample"] = {**inputs.sample, "ci95": sample_intervals(summary_dict, ranked)}
    return Report(
        gate=inputs.config.gate.fail_on,
        model=_model_dict(inputs),
        pipelines={side: _pipeline_dict(getattr(inputs, side)) for side in ("train", "serve")},
        summary=summary_dict,
        findings=ranked,
        images=run.records,
        probe_matrix=summary.probe_matrix(),
        worst_images=summary.worst_images(),
        audit_error=audit_error,
        version=__version__,
        max_flip_rate=inputs.config.gate.max_flip_rate,
        examples=tallies.examples.to_dict(),
        divergence=run.tracer.result() if run.tracer is not None else None,
        line_trace=line_trace,
        damage=gate_damage,
        images_root=str(inputs.root),
    )


def _totals(inputs: AuditInputs, run: _Run, summary_dict: dict[str, Any]) -> RunTotals:
    """What grading reads of the whole run: images, predictions, flips, accuracy, gross differences."""
    summary, collector = run.tallies.summary, run.tallies.collector
    totals = RunTotals(
        summary.images,
        summary.predicted,
        summary_dict.get("flips") or 0,
        summary.labelled["serve"],
        summary.correct["serve"],
        compared=run.tallies.damage.measured,
        gross_unexplained=collector.gross_unexplained,
        gross_examples=tuple(collector.gross_unexplained_examples),
        gross_named=dict(collector.gross_unexplained_named),
    )
    if run.judge.judges(None):  # dense / embedding / detection: the task's "answer changed" stands in for flips
        totals.predicted, totals.flips = run.judge.judged, run.judge.changed_images
    totals.answers_unjudged = inputs.runner is not None and not totals.predicted  # e.g. a raw anchor head
    return totals


def _pipeline_dict(pipeline: Pipeline) -> dict[str, Any]:
    """Its reference, description and, where known, the file and line that define it."""
    out: dict[str, Any] = {"ref": pipeline.ref, "description": pipeline.description}
    source = pipeline_source(pipeline)
    if source is not None:
        out["source"] = source
    return out


def _model_dict(inputs: AuditInputs) -> dict[str, Any]:
    if inputs.runner is None:
        return {"path": "none", "format": "none"}
    out = inputs.runner.info.to_dict()
    if inputs.model_expects is not None:
        out["expected_input"] = inputs.model_expects.to_dict()
    return out


def _replayer(inputs: AuditInputs, total: int) -> Any:
    """The black-box replay, for an endpoint that yields predictions but no serve tensors."""
    source = inputs.serve_source
    if source is None or inputs.runner is None or not getattr(source, "image_mode", False):
        return None
    from skewcheck.serving.replay import Replayer

    return Replayer(total, inputs.runner, inputs.config.images.seed)


def _chunks(items: Iterable[Pair], size: int) -> Iterator[list[Pair]]:
    """Lists of up to ``size`` pairs, pulled lazily: only one chunk's tensors exist at a time."""
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _audit_error(inputs: AuditInputs, summary: RunningSummary) -> str | None:
    if summary.images == 0:
        return "no image to audit"
    if all(summary.errors[s].total() == summary.images for s in SIDES):  # errors count non-ok outcomes only
        return "both pipelines failed on every image: nothing could be compared"
    for side in SIDES:  # e.g. a snapshot taken on other images, or a tensors: folder for another set
        if summary.compared == 0 and summary.errors[side]["missing"] == summary.images:
            return f"{side} ({getattr(inputs, side).ref}) has no tensor for any of the {summary.images} images: nothing could be compared"
    if inputs.runner is not None:
        fed = summary.images * 2 - summary.errors["train"].total() - summary.errors["serve"].total()
        if fed and sum(summary.model_errors.values()) >= fed:
            return "the model failed on every tensor it was given"
    return None
