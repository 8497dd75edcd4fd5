"""The side of a finding no detector could tell, from the probes' expectations or from labels."""

from __future__ import annotations

from skewcheck.findings import Finding

LABELLED_MIN = 5  # labelled images a finding needs before its accuracy gap names a side
ACCURACY_GAP = 0.05


def side_from_probes(finding: Finding) -> None:
    """A finding whose side no detector told gets the side that breaks its probes' expected decode,
    when one side alone does so on at least half of its images (decided for the whole finding: one
    cause is never split into a side-told and an untold finding by which of its images are probes)."""
    wrong = {side: finding.deviating.get(side, 0) for side in ("train", "serve")}
    if finding.side != "unknown" or min(wrong.values()) > 0 or finding.deviating.get("both"):
        return
    side = max(wrong, key=lambda s: wrong[s])
    if 2 * wrong[side] < finding.images:
        return
    finding.side = side
    finding.explanation += (
        f" The probes tell the side: on {wrong[side]} of these {finding.images} images {side} "
        "breaks the probe's expected decode, the other side never does."
    )
    finding.fix = dict(finding.fix_by_side).get(side, finding.fix + f" (Here: fix {side}.)")


def side_from_labels(finding: Finding) -> None:
    """A finding whose side no evidence told gets the side that is less accurate on its images."""
    n = finding.labelled["images"]
    if finding.side != "unknown" or n < LABELLED_MIN:
        return
    acc = {side: finding.labelled[side] / n for side in ("train", "serve")}
    if abs(acc["train"] - acc["serve"]) < ACCURACY_GAP:
        return
    finding.side = min(acc, key=lambda side: acc[side])
    note = (
        f" The labels tell the side: on these {n} labelled images {finding.side} is right "
        f"{acc[finding.side]:.0%} of the time, the other side {max(acc.values()):.0%}."
    )
    finding.explanation += note
    finding.fix = dict(finding.fix_by_side).get(finding.side, finding.fix + f" (Here: fix {finding.side}.)")
