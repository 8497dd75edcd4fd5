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

from typing import Any

SEARCHED = 16  # images a search runs on before it may stop

_KEY = "settled_searches"


def wanted(shared: dict[str, Any], search: str) -> bool:
    """Run ``search`` on this image? Yes until it ran on SEARCHED images without finding anything."""
    tally = shared.get(_KEY, {}).get(search)
    return tally is None or tally["found"] or tally["images"] < SEARCHED


def ran(shared: dict[str, Any], search: str, found: bool) -> None:
    """``search`` ran on one more image (and found something there, or not)."""
    tally = shared.setdefault(_KEY, {}).setdefault(search, {"images": 0, "found": False})
    tally["images"] += 1
    tally["found"] = tally["found"] or found


def settled(shared: dict[str, Any]) -> dict[str, int]:
    """Searches that stopped, each with the number of images it ran on (for the report's summary)."""
    tallies = shared.get(_KEY, {})
    return {name: t["images"] for name, t in sorted(tallies.items()) if not t["found"] and t["images"] >= SEARCHED}


def fit_first(seen: list, n: int, candidates: tuple) -> tuple:
    """The candidates to try on this image: all of them on the first ``n`` images, then only the one
    those images chose most (ties: the first chosen, so the same images give the same choice in
    every process; a set's order would not). The callers append each image's choice to ``seen``."""
    return (max(seen, key=seen.count),) if len(seen) >= n else candidates
