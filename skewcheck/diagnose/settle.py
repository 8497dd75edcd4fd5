"""Costly searches settle: run on the first images they apply to, kept only where they find something.

A cause of skew sits in a pipeline's code, so it shows on every image it can show on. A search
that re-renders the file many ways (every framing for ``crop``, every YCbCr/YUV round trip for
``color-conversion``) and named nothing on the first :data:`SEARCHED` images it ran on is not run
on the rest of the audit; one that named something once keeps running on every image. Images are
diagnosed in file order in every engine, with any ``--workers`` and any ``--batch-size``, so the
same images decide and the report stays the same. ``summary.diagnosis.settled`` lists each search
that stopped, after how many images, so a reader knows what was not looked for on the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skewcheck.diagnose.run_state import RunState

SEARCHED = 16  # images a search runs on before it may stop


@dataclass
class Tally:
    images: int = 0
    found: bool = False


@dataclass
class Searches:
    """The run state of the settling searches: per search, the images it ran on and whether it found anything."""

    tallies: dict[str, Tally] = field(default_factory=dict)


def wanted(run: RunState, search: str) -> bool:
    """Run ``search`` on this image? Yes until it ran on SEARCHED images without finding anything."""
    tally = run.of(Searches).tallies.get(search)
    return tally is None or tally.found or tally.images < SEARCHED


def ran(run: RunState, search: str, found: bool) -> None:
    """``search`` ran on one more image (and found something there, or not)."""
    tally = run.of(Searches).tallies.setdefault(search, Tally())
    tally.images += 1
    tally.found = tally.found or found


def settled(run: RunState) -> dict[str, int]:
    """Searches that stopped, each with the number of images it ran on (for the report's summary)."""
    tallies = run.of(Searches).tallies
    return {name: t.images for name, t in sorted(tallies.items()) if not t.found and t.images >= SEARCHED}
