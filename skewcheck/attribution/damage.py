"""Does the run fail? Decided by the damage observed, whatever the diagnosis explains.

The gate reads five measures of damage, each with its own severity, and fails at ``--fail-on``
when any of them (or any finding) reaches it:

1. **Answers that change**: top-1 flips of a classifier, or, for dense maps, detections and
   embeddings, the images whose answer changed by the task's own test. The 95 % Wilson interval
   of the changed share decides: its lower bound ≥ 1 % is ``major``, ≥ 10 % ``critical``. One
   borderline flip in a 60-image audit (interval 0.3-8.9 %) does not fail; 15 flips in 200
   (4.6-12.0 %) do.
2. **Accuracy lost** (with ``--labels``): the paired drop from train to serve on the images
   labelled on both sides, with its 95 % interval (McNemar's counts: images only train gets right
   against images only serve gets right); a lower bound ≥ 1 point is ``major``, ≥ 10 points
   ``critical``.
3. **Gross inputs**: images whose serve tensor is grossly different from the train tensor,
   whether or not the model minded here (the next images, or the next model, may). The distance
   is the RMSE of the two tensors averaged over an 8 × 8 grid of cells, against the train
   tensor's value range, in dB (``skewcheck.comparison.metrics.input_distance_db``); below
   18.1 dB (an RMSE over 1/8 of the range) an image is gross. Resize methods, JPEG decoders,
   ICC handling and colour round trips stay above it on the probe set and the skew suites;
   rotation, re-framing, re-normalizing, channel swaps, blanking and noise fall below (the
   measured distribution is below). A gross change on ≥ 1 % of the compared images is ``major``.
4. **Contract breaks**: ``dtype``, ``layout`` and ``shape`` findings, and a value range the model
   itself contradicts (``scale`` against the model's expected input), are at least ``major``.
5. **One side failing** where the other does not (``pipeline-error``, ``decode-tolerance``): the
   share of all images, ≥ 10 % ``critical``, ≥ 1 % ``major``.

A finding's severity is the larger of what its repair measurably recovers (the same interval
rule on the flips it brings back) and the floor of its images: ``major`` when the gross images
it explains are ≥ 1 % of the compared images. On a gross image, the floor goes to the findings
that can move an image that far: not ``resize``, ``jpeg-decoder``, ``color-profile`` or a
``color-conversion`` other than colour replaced by gray or gray weights that can differ by 1/8
of the range on a pure colour (BT.601 on RGB against BGR), which on the probe set stay above the
threshold where they are the cause (a gross image that only they
are named on was named wrongly, as a watermark named ``resize``, or by a nearest-neighbour resize
aliasing a sentinel, the one case of the suites where ``resize`` alone goes under). The residual is graded by the
same rules: the ``prediction`` catch-all by the flips no named cause explains, and gross images
that carry no finding able to explain them make an ``unexplained`` finding (major at ≥ 1 % of the
compared images). An unexplained difference never passes for being unexplained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from skewcheck.comparison.intervals import Z95, wilson
from skewcheck.findings import Severity

CRITICAL_SHARE = 0.10
MAJOR_SHARE = 0.01
GROSS_RMSE = 1 / 8  # of the train tensor's range
GROSS_DB = -20 * math.log10(GROSS_RMSE)  # 18.06 dB: the cell-mean RMSE exceeds 1/8 of the train tensor's range
FINE_KINDS = frozenset({"resize", "jpeg-decoder", "color-profile"})
COARSE_COLOR_CAUSES = frozenset({"replicated gray"})  # colour → gray: the one colour conversion that moves far


def can_move_grossly(kind: str, evidence: dict[str, Any]) -> bool:
    """Whether a cause of this kind can, alone, move an image under the gross threshold (the
    calibration's finding: resampling, JPEG decoding, ICC handling and colour round trips or gray
    weights never do; replacing colour by gray does)."""
    if kind == "color-conversion":
        shift = evidence.get("largest_shift")
        coarse_weights = isinstance(shift, (int, float)) and shift >= GROSS_RMSE
        return evidence.get("cause") in COARSE_COLOR_CAUSES or coarse_weights
    return kind not in FINE_KINDS


CONTRACT_KINDS = frozenset({"dtype", "layout", "shape"})


def is_gross(distance_db: float | None) -> bool:
    return distance_db is not None and distance_db < GROSS_DB


def share_severity(count: int, trials: int, *, interval: bool = True) -> Severity | None:
    """``major`` / ``critical`` when the share (its 95 % lower bound with ``interval``) reaches
    1 % / 10 %, else None."""
    if trials <= 0 or count <= 0:
        return None
    low = (wilson(count, trials) or (0.0, 0.0))[0] if interval else count / trials
    if low >= CRITICAL_SHARE:
        return Severity.CRITICAL
    return Severity.MAJOR if low >= MAJOR_SHARE else None


def paired_drop(train_only: int, serve_only: int, n: int) -> tuple[float, float, float] | None:
    """Accuracy lost from train to serve on ``n`` images labelled on both sides: the drop and its
    95 % interval (normal approximation of the paired difference, as McNemar's test counts it)."""
    if n <= 0:
        return None
    drop = (train_only - serve_only) / n
    var = max(0.0, (train_only + serve_only) / n**2 - drop**2 / n)
    half = Z95 * math.sqrt(var)
    return drop, drop - half, drop + half


@dataclass
class Damage:
    """One measure of damage that the gate read, with the severity it gives and why, in words."""

    rule: str  # answers | accuracy | gross-inputs | contract | one-side-fails
    severity: Severity
    reason: str
    count: int = 0
    of: int = 0
    ci95: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.label,
            "reason": self.reason,
            "count": self.count,
            "of": self.of,
        }
        if self.ci95 is not None:
            out["ci95"] = [round(x, 6) for x in self.ci95]
        return out


@dataclass
class DamageTally:
    """Running counts over the images of an audit (memory stays flat)."""

    measured: int = 0  # pairs with an input distance
    gross: int = 0
    gross_examples: list[str] = field(default_factory=list)
    labelled_both: int = 0
    train_only: int = 0  # labelled images that only train gets right
    serve_only: int = 0

    def add_distance(self, path: str, distance_db: float | None) -> bool:
        if distance_db is None:
            return False
        self.measured += 1
        gross = is_gross(distance_db)
        if gross:
            self.gross += 1
            if len(self.gross_examples) < 5:
                self.gross_examples.append(path)
        return gross

    def add_correct(self, correct: dict[str, bool] | None) -> None:
        if correct is None:
            return
        self.labelled_both += 1
        self.train_only += int(correct["train"] and not correct["serve"])
        self.serve_only += int(correct["serve"] and not correct["train"])


def assess(
    tally: DamageTally,
    *,
    changed: int,
    judged: int,
    answer: str,
    findings: list[Any],
    images: int,
) -> list[Damage]:
    """The damage measures that give a severity, strongest first. ``changed`` of ``judged`` images
    changed their answer (``answer`` names it: "predictions flip", "answers change")."""
    out: list[Damage] = []
    severity = share_severity(changed, judged)
    if severity is not None:
        ci = wilson(changed, judged)
        out.append(
            Damage(
                "answers",
                severity,
                f"{_pct(changed / judged)} of {answer} ({changed} of {judged}, 95 % CI {_ci(ci)})",
                changed,
                judged,
                list(ci) if ci else None,
            )
        )
    drop = paired_drop(tally.train_only, tally.serve_only, tally.labelled_both)
    if drop is not None and drop[1] >= MAJOR_SHARE:
        severity = Severity.CRITICAL if drop[1] >= CRITICAL_SHARE else Severity.MAJOR
        out.append(
            Damage(
                "accuracy",
                severity,
                f"accuracy drops {100 * drop[0]:.1f} points on {tally.labelled_both} labelled images "
                f"(95 % CI {100 * drop[1]:.1f}-{100 * drop[2]:.1f})",
                tally.train_only - tally.serve_only,
                tally.labelled_both,
                [drop[1], drop[2]],
            )
        )
    if tally.measured and tally.gross / tally.measured >= MAJOR_SHARE:
        out.append(
            Damage(
                "gross-inputs",
                Severity.MAJOR,
                f"{tally.gross} of {tally.measured} serve tensors grossly differ from train's",
                tally.gross,
                tally.measured,
            )
        )
    for finding in findings:
        if is_contract(finding) and finding.severity >= Severity.MAJOR:
            out.append(
                Damage(
                    "contract",
                    finding.severity,
                    f"{finding.kind} contract broken on {finding.images} images ({finding.side})",
                    finding.images,
                    images,
                )
            )
        elif finding.kind in ("pipeline-error", "decode-tolerance") and finding.severity >= Severity.MAJOR:
            out.append(
                Damage(
                    "one-side-fails",
                    finding.severity,
                    f"{finding.kind}: {finding.side} fails where the other side does not on {finding.images} images",
                    finding.images,
                    images,
                )
            )
    return sorted(out, key=lambda d: -d.severity)


def is_contract(finding: Any) -> bool:
    """dtype, layout, shape, or a value range the model itself contradicts."""
    return finding.kind in CONTRACT_KINDS or (finding.kind == "scale" and "expected_range" in finding.evidence)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _ci(ci: tuple[float, float] | None) -> str:
    return "n/a" if ci is None else f"{100 * ci[0]:.1f}-{100 * ci[1]:.1f} %"
