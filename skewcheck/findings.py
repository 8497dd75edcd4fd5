"""Findings: what a detector saw on one image (Observation), merged across images (Finding)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    INFO = 0
    MINOR = 1
    MAJOR = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Severity:
        return cls[name.upper()]


@dataclass(frozen=True)
class Observation:
    """One detector's explanation of one image pair. Equal ``key``s merge into one Finding."""

    kind: str
    severity: Severity
    side: str | None  # "train", "serve", "both" or None when it cannot be told
    evidence: dict[str, Any]
    explanation: str
    fix: str
    magnitude: float = 0.0
    measures: dict[str, float] = field(default_factory=dict)  # per-image numbers; worst one kept
    merge_on: tuple[str, ...] | None = None  # evidence keys that split findings; None = all
    repair: tuple[str, ...] = ()  # skewcheck.diagnose.repair components that undo it; () = none
    fix_by_side: tuple[tuple[str, str], ...] = ()  # the fix once the side is known, when it is not yet
    # the kinds it replaces on its image, when narrower than its detector's SPEC.supersedes
    # (e.g. a rounding with many levels explains no value map: a real normalization beside it stays)
    supersedes: tuple[str, ...] | None = None

    @property
    def key(self) -> tuple[str, str | None, str]:
        keys = self.evidence.keys() if self.merge_on is None else self.merge_on
        stable = {k: self.evidence.get(k) for k in keys}
        return (self.kind, self.side, json.dumps(stable, sort_keys=True, default=str))


@dataclass
class Finding:
    kind: str
    severity: Severity
    side: str | None
    evidence: dict[str, Any]
    explanation: str
    fix: str
    images: int = 0
    flips: int = 0
    magnitude: float = 0.0
    examples: list[str] = field(default_factory=list)
    worst: dict[str, float] = field(default_factory=dict)
    deviating: dict[str, int] = field(default_factory=dict)  # probes where that side broke the expectation
    tallies: dict[str, dict[str, tuple[int, Any]]] = field(default_factory=dict, repr=False)
    example_scores: dict[str, tuple[float, float, int]] = field(default_factory=dict, repr=False)
    key: tuple[str, str | None, str] | None = None  # the merge identity: its observations' ``key``
    repair: tuple[str, ...] = ()
    fix_by_side: tuple[tuple[str, str], ...] = ()
    flips_on_images: int = 0  # flipped images among its images (each flip may sit under several findings)
    impact: dict[str, Any] | None = None  # what its repair alone recovers (skewcheck.attribution)
    absorbed: list[dict[str, Any]] = field(default_factory=list)  # weaker findings folded into this one
    cooccurs: dict[tuple[str, str | None, str], int] = field(default_factory=dict, repr=False)
    labelled: dict[str, int] = field(default_factory=lambda: {"images": 0, "train": 0, "serve": 0}, repr=False)
    gross_images: int = (
        0  # its images whose serve tensor is grossly changed, this finding credited (attribution.damage)
    )
    traffic: dict[str, Any] | None = None  # compare --traffic: its share of production (skewcheck.profile.traffic)
    location: dict[str, Any] | None = None  # where its cause sits in two Python pipelines (skewcheck.trace)
    rank_severity: Severity | None = field(default=None, repr=False)  # ranks by this when grading capped it

    def to_dict(self) -> dict[str, Any]:
        worst = {f"worst_{k}": round(v, 4) for k, v in self.worst.items()}
        return {
            "kind": self.kind,
            "severity": self.severity.label,
            "side": self.side,
            "images": self.images,
            "flips": self.flips,
            "evidence": {**self.evidence, **worst},
            "explanation": self.explanation,
            "fix": self.fix,
            "probe_expectation": self.expectation_text(),
            "magnitude": round(self.magnitude, 6),
            "impact": self.impact,
            "flips_on_images": self.flips_on_images,
            "gross_images": self.gross_images,
            "absorbed": self.absorbed,
            "examples": self.examples,
            **({"traffic": self.traffic} if self.traffic is not None else {}),
            "location": self.location,
        }

    def expectation_text(self) -> str | None:
        """E.g. 'serve deviates from the expected decode on 7/7 probe images'."""
        if not self.deviating:
            return None
        side, count = max(self.deviating.items(), key=lambda kv: kv[1])
        who = "both sides deviate" if side == "both" else f"{side} deviates"
        return f"{who} from the probe's expected decode on {count}/{self.images} images"


MAX_EXAMPLES = 5


class FindingCollector:
    """Merges observations image by image, keeping counts and a few examples, not every image."""

    def __init__(self) -> None:
        self._findings: dict[tuple[str, str | None, str], Finding] = {}
        self.flipped_sets: dict[frozenset[tuple[str, str | None, str]], int] = {}  # flipped images by findings on them
        self.gross_unexplained = 0  # grossly changed images that carry no observation
        self.gross_unexplained_examples: list[str] = []
        self.gross_unexplained_named: dict[str, int] = {}  # kinds named on them, too small a cause alone

    def add(self, path: str, observation: Observation, flipped: bool, deviating: str | None = None) -> None:
        finding = self._findings.get(observation.key)
        if finding is None:
            finding = Finding(
                kind=observation.kind,
                severity=observation.severity,
                side=observation.side,
                evidence=dict(observation.evidence),
                explanation=observation.explanation,
                fix=observation.fix,
                key=observation.key,
                repair=observation.repair,
                fix_by_side=observation.fix_by_side,
            )
            self._findings[observation.key] = finding
        _tally_evidence(finding, observation.evidence)
        finding.images += 1
        finding.flips_on_images += int(flipped)
        if deviating is not None:
            finding.deviating[deviating] = finding.deviating.get(deviating, 0) + 1
        finding.severity = max(finding.severity, observation.severity)
        finding.magnitude = max(finding.magnitude, observation.magnitude)
        for name, value in observation.measures.items():
            finding.worst[name] = max(finding.worst.get(name, value), value)
        _keep_example(finding, path, (float(flipped), observation.magnitude))

    def add_image(
        self,
        path: str,
        observations: list[Observation],
        flipped: bool,
        deviating: str | None = None,
        correct: dict[str, bool] | None = None,
        gross: bool = False,
    ) -> None:
        """All observations of one image: merged into findings, which findings share images, and
        (with a label) whether each side's prediction was right, to tell a finding's side later.
        A ``gross`` image (skewcheck.attribution.damage) is credited to the findings that can move
        an image that far, or counted as unexplained when none of them can."""
        for obs in observations:
            self.add(path, obs, flipped, deviating)
        keys = {obs.key for obs in observations}
        if gross:
            self._credit_gross(path, observations)
        if flipped:
            together = frozenset(keys)
            self.flipped_sets[together] = self.flipped_sets.get(together, 0) + 1
        if correct is not None:
            for key in keys:
                tally = self._findings[key].labelled
                tally["images"] += 1
                for side in ("train", "serve"):
                    tally[side] += int(correct[side])
        for key in keys:
            cooccurs = self._findings[key].cooccurs
            for other in keys - {key}:
                cooccurs[other] = cooccurs.get(other, 0) + 1

    def _credit_gross(self, path: str, observations: list[Observation]) -> None:
        from skewcheck.attribution.damage import can_move_grossly

        coarse = {obs.key for obs in observations if can_move_grossly(obs.kind, obs.evidence)}
        if not coarse:  # nothing named, or only causes that never move an image this far alone
            self.gross_unexplained += 1
            for kind in {obs.kind for obs in observations}:
                self.gross_unexplained_named[kind] = self.gross_unexplained_named.get(kind, 0) + 1
            if len(self.gross_unexplained_examples) < MAX_EXAMPLES:
                self.gross_unexplained_examples.append(path)
        for key in coarse:
            self._findings[key].gross_images += 1

    def findings(self) -> list[Finding]:
        return list(self._findings.values())


def _keep_example(finding: Finding, path: str, score: tuple[float, float]) -> None:
    """The images a finding hurts most: flipped first, then the largest difference; earlier wins ties."""
    ranked = finding.example_scores
    ranked[path] = (score[0], score[1], -finding.images)
    if len(ranked) > MAX_EXAMPLES:
        del ranked[min(ranked, key=lambda p: ranked[p])]
    finding.examples = sorted(ranked, key=lambda p: ranked[p], reverse=True)


DOMINANT = 0.8  # evidence shows one value when this share of the merged images agree on it


def _tally_evidence(finding: Finding, new: dict[str, Any]) -> None:
    """Evidence that varies across merged images shows its dominant value, the values seen, or
    (numbers, more than a few distinct values) their distribution: median, min and max."""
    for key, value in new.items():
        tally = finding.tallies.setdefault(key, {})
        token = json.dumps(value, sort_keys=True, default=str)
        count, _ = tally.get(token, (0, value))
        tally[token] = (count + 1, value)
        if finding.kind == "shape" and key == "sizes":
            continue  # not shown: fitted into ``policy`` below
        total = sum(n for n, _ in tally.values())
        top_count, top_value = max(tally.values(), key=lambda nv: nv[0])
        if len(tally) == 1 or top_count >= DOMINANT * total:
            finding.evidence[key] = top_value
        elif len(tally) <= (MAX_VALUES_SHOWN if _categorical(tally) else MAX_NUMBERS_SHOWN):
            finding.evidence[key] = sorted((v for _, v in tally.values()), key=str)
        else:
            finding.evidence[key] = _distribution([(n, v) for n, v in tally.values()])
    if finding.kind == "shape" and "sizes" in new:  # one rule from every shape pair, not a list of pairs
        from skewcheck.diagnose.measure.resize_policy import derive

        derive(finding)


MAX_VALUES_SHOWN = 10  # distinct names or codes listed as they are (EXIF orientations, methods)
MAX_NUMBERS_SHOWN = 5  # distinct measured numbers listed; beyond, their distribution


def _categorical(tally: dict[str, tuple[int, Any]]) -> bool:
    return all(isinstance(v, (str, bool, int)) and not isinstance(v, float) for _, v in tally.values())


def _distribution(counted: list[tuple[int, Any]]) -> Any:
    """Median / min / max of numbers or equal-length number lists (per element), else a count."""
    import numpy as np

    try:
        rows = np.repeat(
            np.array([np.atleast_1d(np.asarray(v, dtype=float)) for _, v in counted]), [n for n, _ in counted], axis=0
        )
    except (TypeError, ValueError):
        return f"{len(counted)} different values"
    scalar = all(np.ndim(v) == 0 for _, v in counted)

    def pick(x: Any) -> Any:
        vals = [float(f"{float(a):.4g}") for a in np.atleast_1d(x)]
        return vals[0] if scalar else vals

    return {
        "median": pick(np.median(rows, axis=0)),
        "min": pick(rows.min(axis=0)),
        "max": pick(rows.max(axis=0)),
        "distinct": len(counted),
    }
