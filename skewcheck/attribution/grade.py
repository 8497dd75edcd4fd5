"""Grade and rank findings by what their repair recovers (docs/findings.md prints this text).

Severity, in this order:

1. ``pipeline-error`` and ``decode-tolerance`` (one side fails where the other does not) take
   the share of all images they cover: ≥ 10 % critical, ≥ 1 % at least major, else the
   detector's own severity.
2. A finding whose repair was measured and changes nothing (recovers no flip and removes under
   5 % of the tensor difference, or of the class-probability shift when the tensors cannot be
   compared) is ``info``: the detector saw a pattern, but undoing it buys nothing here.
3. A finding measured through a classifier takes the share of the run's predicted images whose
   flip its repair alone recovers (estimated for the whole run from its sample), by the lower
   bound of its 95 % interval: ≥ 10 % critical, ≥ 1 % major; below 1 % it is ``minor``, however
   much the class probabilities move (a shift that flips no answer is not damage the gate reads).
4. Without a model, a repair or a class output, the detector's severity stands where the run saw
   damage on the finding's images (answers changed on them by the task's own test, or grossly
   changed images that are ≥ 1 % of the compared ones), where a model ran but none of its outputs
   could be judged (a raw detector head without ``--postprocess``: the damage is unknown, not
   absent), and for ``nondeterminism`` (randomness
   makes every measure of the run random) and contract breaks (rule 5). Elsewhere it is at most
   ``minor``: a difference as small as a resize method's, a decoder's or an ICC conversion's, that
   no answer shows, is reported and ranked, not failed on (``--fail-on minor`` fails on it).
5. ``dtype``, ``layout`` and ``shape`` (and a ``scale`` the model's own input range contradicts)
   are at least major whatever they cost here: the next model or runtime may not adapt the tensor.
6. Whatever the above gives, a finding is at least major when the grossly changed images it is
   credited with are ≥ 1 % of the compared images (``skewcheck.attribution.damage``); the
   ``prediction`` catch-all is at least what its flips give by the gate's answers rule, and gross
   images with no finding make an ``unexplained`` finding graded the same way.

Side: a finding whose detector could not tell the side (``unknown``) gets, with labels, the side
that is less accurate on its images (at least 5 labelled images and a 5-point gap).

Flips: each flipped image is credited to one finding, the one whose repair alone recovers it
(the one removing most tensor difference when several do, or when only fixes together recover
it); a finding without a repair counts the flips among its images. No flip is counted twice
among repaired findings.

Ranking: ``nondeterminism`` first (randomness left on in a pipeline makes every other difference
and every measured repair on its images random too), then flips recovered, then severity (for a
finding rule 4 graded down, the detector's: the gate does not fail on it, but it is still the cause
that moves the tensors most), then difference removed (the share of the tensor
difference it removes times its images), then images; the residuals (the ``prediction`` catch-all
and ``unexplained``: what no named cause explains) come after every named cause of their severity.

Residual: flipped images whose only findings changed nothing (``info``) join the ``prediction``
catch-all (or make one): what no named cause explains is reported as such.

Residue: a finding that recovers no flip and adds under 5 % to what the other repairs of its
images remove (all repairs but it, against all of them), on images a stronger finding covers
(≥ 80 % of them), is folded into that finding (listed under ``absorbed``); a ``jpeg-decoder``
finding never is (another decoder reproduces its side from the file: a cause of its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skewcheck.attribution.damage import MAJOR_SHARE as GROSS_SHARE
from skewcheck.attribution.damage import is_contract, share_severity
from skewcheck.attribution.finding_side import side_from_labels, side_from_probes
from skewcheck.attribution.measure import ALL, Attributor, Tally
from skewcheck.attribution.residual import unexplained_flips, unexplained_inputs
from skewcheck.findings import Finding, Severity

CRITICAL_SHARE = 0.10
MAJOR_SHARE = 0.01
AT_LEAST_MAJOR = frozenset({"dtype", "layout", "shape"})
FAILURE_KINDS = frozenset({"pipeline-error", "decode-tolerance"})
# jpeg-decoder is named only where another decoder reproduces a side from the file itself: its own
# cause, never the by-product of another cause's repair, however little it adds to that repair
NEVER_FOLDED = AT_LEAST_MAJOR | FAILURE_KINDS | {"nondeterminism", "prediction", "unexplained", "jpeg-decoder"}
RESIDUAL_KINDS = frozenset({"prediction", "unexplained"})  # what no named cause explains
UNMEASURABLE = frozenset({"nondeterminism"})  # randomness makes every measure of the run random
RESIDUE_ADDED = 0.05
NOTHING = 0.05  # a measured repair that removes less than this of the difference and of the shift
RESIDUE_OVERLAP = 0.8
STRONGER_EXPLAINED = 0.5


@dataclass
class RunTotals:
    images: int
    predicted: int  # images with class predictions on both sides
    flips: int
    labelled: int = 0  # labelled images with a serve prediction
    serve_correct: int = 0
    compared: int = 0  # pairs whose input distance was measured (skewcheck.attribution.damage)
    gross_unexplained: int = 0  # grossly changed images that carry no finding
    gross_examples: tuple[str, ...] = ()
    gross_named: dict[str, int] = field(default_factory=dict)  # fine kinds named on the unexplained ones
    answers_unjudged: bool = False  # a model ran, but no output has an "answer changed" test (no --postprocess)


def grade_and_rank(
    findings: list[Finding],
    attributor: Attributor | None,
    run: RunTotals,
    flipped_sets: dict[frozenset[Any], int] | None = None,
) -> list[Finding]:
    for finding in findings:
        side_from_probes(finding)
        side_from_labels(finding)
        tally = attributor.tallies.get(finding.key) if attributor is not None and finding.key else None
        finding.impact = impact(finding, tally, run)
        finding.flips = (
            _credited_flips(tally) if finding.impact is not None and tally is not None else finding.flips_on_images
        )
        detector_said = finding.severity
        finding.severity = grade(finding, run)
        if _capped(finding, run, detector_said):
            finding.rank_severity = detector_said
            finding.explanation += CAPPED_NOTE.format(said=detector_said.label)
    kept = _fold_residue(findings)
    residual = unexplained_flips(kept, flipped_sets or {}, run)
    for finding in unexplained_inputs(run):
        finding.severity = max(finding.severity, _floor(finding, run))  # the gross-image floor every finding gets
        residual.append(finding)
    return sorted(kept + residual, key=_rank_key)


CAPPED_NOTE = (
    " Graded minor, not {said}: no answer was judged on its images and none moved grossly, so the "
    "gate does not fail on it (--fail-on minor does); it keeps its rank among the causes."
)


def impact(finding: Finding, tally: Tally | None, run: RunTotals) -> dict[str, Any] | None:
    """The contract's ``impact`` object, or None when the finding has no repair or no sample."""
    if not finding.repair or tally is None or tally.sampled == 0:
        return None
    out: dict[str, Any] = {
        "sampled": tally.sampled,
        "flips_recovered": None,
        "agreement_after_fix": None,
        "accuracy_after_fix": None,
        "diff_explained": None,
    }
    if tally.predicted and run.predicted:
        recovered = _estimate(tally.recovered, tally.sampled_flipped, tally.flipped_images)
        broken = _estimate(tally.broken, tally.agreeing, tally.images - tally.flipped_images)
        out["flips_recovered"] = recovered
        out["flips_sampled"] = tally.sampled_flipped
        out["flips_recovered_sampled"] = tally.recovered
        if broken:
            out["flips_caused"] = broken
        out["agreement_after_fix"] = round(1 - max(0, run.flips - recovered + broken) / run.predicted, 6)
        if run.labelled and tally.labelled:
            flipped_rate = tally.correct_delta_flipped / tally.sampled_flipped if tally.sampled_flipped else 0.0
            agreeing_rate = tally.correct_delta_agreeing / tally.agreeing if tally.agreeing else 0.0
            delta = flipped_rate * tally.flipped_images + agreeing_rate * (tally.images - tally.flipped_images)
            after = min(run.labelled, max(0.0, run.serve_correct + delta))
            out["accuracy_before_fix"] = round(run.serve_correct / run.labelled, 6)
            out["accuracy_after_fix"] = round(after / run.labelled, 6)
    if tally.diffs and tally.diff_before > 0:
        out["diff_explained"] = round(min(1.0, max(0.0, 1 - tally.diff_after / tally.diff_before)), 6)
    if tally.diffs and tally.diff_before > 0 and tally.without_left:
        out["diff_added_to_other_fixes"] = round(
            max(0.0, (tally.without_left - tally.with_left) / tally.diff_before), 6
        )
    if tally.shifts:
        out["prob_shift"] = round(tally.shift_before / tally.shifts, 6)
        if tally.shift_before > 0:
            out["prob_shift_explained"] = round(min(1.0, max(0.0, 1 - tally.shift_after / tally.shift_before)), 6)
    if tally.outputs and tally.output_before > 0:
        out["output_diff_explained"] = round(min(1.0, max(0.0, 1 - tally.output_after / tally.output_before)), 6)
    return out


def after_all_fixes(attributor: Attributor | None) -> dict[str, Any] | None:
    """Every repair of each sampled image applied together: what is left is what no finding explains."""
    tally = attributor.tallies.get(ALL) if attributor is not None else None
    if tally is None or tally.sampled == 0:
        return None
    out: dict[str, Any] = {"sampled": tally.sampled, "agreement": None, "accuracy": None, "diff_explained": None}
    if tally.predicted:
        out["agreement"] = round(tally.agree_after / tally.predicted, 6)
        out["flips_left"] = tally.predicted - tally.agree_after
    if tally.labelled:
        out["accuracy"] = round(tally.correct_after / tally.labelled, 6)
    if tally.diffs and tally.diff_before > 0:
        out["diff_explained"] = round(min(1.0, max(0.0, 1 - tally.diff_after / tally.diff_before)), 6)
    elif tally.diffs:
        out["diff_explained"] = 1.0
    return out


def grade(finding: Finding, run: RunTotals) -> Severity:
    """The measured severity (rules 1-5), raised to the floor of the finding's images (rule 6)."""
    return max(_measured(finding, run), _floor(finding, run))


def _floor(finding: Finding, run: RunTotals) -> Severity:
    floor = Severity.INFO
    if is_contract(finding):
        floor = Severity.MAJOR
    if run.compared and finding.gross_images / run.compared >= GROSS_SHARE:
        floor = Severity.MAJOR
    if finding.kind == "prediction":
        floor = max(floor, share_severity(finding.flips, run.predicted) or Severity.INFO)
    return floor


def _measured(finding: Finding, run: RunTotals) -> Severity:
    contract = finding.severity
    if finding.kind in FAILURE_KINDS and run.images:
        share = finding.images / run.images
        if share >= CRITICAL_SHARE:
            return Severity.CRITICAL
        return max(contract, Severity.MAJOR) if share >= MAJOR_SHARE else contract
    imp = finding.impact or {}
    recovered = imp.get("flips_recovered")
    if finding.impact is not None and _changes_nothing(imp) and finding.kind not in AT_LEAST_MAJOR:
        return Severity.INFO
    if recovered is None or not run.predicted:
        return contract if _damage_seen(finding, run) else min(contract, Severity.MINOR)
    measured = share_severity(recovered, run.predicted) or Severity.MINOR
    return max(measured, Severity.MAJOR) if finding.kind in AT_LEAST_MAJOR else measured


def _capped(finding: Finding, run: RunTotals, detector_said: Severity) -> bool:
    """Rule 4 lowered the detector's grade: no measured impact and no damage seen on its images."""
    no_impact = (finding.impact or {}).get("flips_recovered") is None or not run.predicted
    return (
        finding.severity == Severity.MINOR
        and detector_said > Severity.MINOR
        and finding.kind not in FAILURE_KINDS
        and no_impact
        and not _damage_seen(finding, run)
    )


def _damage_seen(finding: Finding, run: RunTotals) -> bool:
    """Rule 4: the run measured damage on this finding's images (or cannot measure it at all)."""
    gross = bool(run.compared) and finding.gross_images / run.compared >= GROSS_SHARE
    return (
        gross
        or run.answers_unjudged
        or finding.flips > 0
        or finding.flips_on_images > 0
        or finding.kind in UNMEASURABLE
        or is_contract(finding)
    )


def _changes_nothing(imp: dict[str, Any]) -> bool:
    """No flip back, and the tensors (or, when they cannot be compared, the probabilities) barely move."""
    if imp.get("flips_recovered"):
        return False
    diff, shift = imp.get("diff_explained"), imp.get("prob_shift_explained")
    measured = diff if diff is not None else shift
    return measured is not None and measured < NOTHING


def _estimate(hits: int, sampled: int, population: int) -> int:
    """``hits`` of ``sampled`` scaled to ``population`` (exact when everything was sampled)."""
    if sampled <= 0 or population <= 0:
        return 0
    return min(population, round(hits / sampled * population))


def _credited_flips(tally: Tally) -> int:
    return _estimate(tally.credited, tally.sampled_flipped, tally.flipped_images)


def _removed(f: Finding) -> float:
    explained = (f.impact or {}).get("diff_explained")
    return (explained or 0.0) * f.images


def _rank_key(f: Finding) -> tuple[Any, ...]:
    recovered = (f.impact or {}).get("flips_recovered") or 0
    random_first = f.kind != "nondeterminism"  # randomness left on makes every other measure of it random
    return (
        random_first,
        -recovered,
        -(f.rank_severity if f.rank_severity is not None else f.severity),
        f.kind in RESIDUAL_KINDS,
        -_removed(f),
        -f.images,
        -f.magnitude,
        f.kind,
    )


def _weak(f: Finding) -> bool:
    """Recovers no flip and adds (almost) nothing to what the other repairs of its images remove."""
    imp = f.impact
    if f.kind in NEVER_FOLDED or imp is None or imp.get("flips_recovered"):
        return False
    added = imp.get("diff_added_to_other_fixes")
    return added is not None and added < RESIDUE_ADDED


def _strong(f: Finding) -> bool:
    imp = f.impact or {}
    return bool(imp.get("flips_recovered")) or (imp.get("diff_explained") or 0.0) >= STRONGER_EXPLAINED


def _fold_residue(findings: list[Finding]) -> list[Finding]:
    by_key = {f.key: f for f in findings}
    folded: set[Any] = set()
    for f in sorted(findings, key=_rank_key, reverse=True):  # weakest first
        if not _weak(f):
            continue
        hosts = [
            by_key[k]
            for k, n in f.cooccurs.items()
            if k in by_key and k not in folded and k != f.key and n >= RESIDUE_OVERLAP * f.images and _strong(by_key[k])
        ]
        if not hosts:
            continue
        host = min(hosts, key=_rank_key)
        host.absorbed.append(
            {
                "kind": f.kind,
                "side": f.side,
                "images": f.images,
                "evidence": f.evidence,
                "diff_explained": (f.impact or {}).get("diff_explained"),
            }
        )
        host.flips += f.flips
        folded.add(f.key)
    return [f for f in findings if f.key not in folded]
