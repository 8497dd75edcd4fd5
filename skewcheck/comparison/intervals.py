"""Wilson score intervals for the rates of a sampled audit (``--sample``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The 95 % Wilson interval of ``successes / trials`` (None without trials).

    Unlike the normal approximation it stays inside [0, 1] and is not zero-width at 0 or 1
    successes, which matters for the rare findings a sample is drawn to bound.
    """
    if trials <= 0:
        return None
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exactly 0 / 1 at the ends, not 1e-18 off
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def sample_intervals(summary: dict[str, Any], findings: Sequence[Any]) -> dict[str, Any]:
    """95 % intervals of the report's rates, from its counts. The sample is drawn in proportion to
    each stratum's size, so it weighs every image alike and the pooled interval applies."""
    out: dict[str, Any] = {}
    predicted, flips = summary.get("predicted") or 0, summary.get("flips") or 0
    out["top1_agreement"] = _rounded(wilson(predicted - flips, predicted))
    out["flip_rate"] = _rounded(wilson(flips, predicted))
    accuracy, labelled = summary.get("accuracy") or {}, summary.get("labelled") or {}
    if isinstance(accuracy, dict) and labelled:
        out["accuracy"] = {
            side: _rounded(wilson(round(rate * labelled.get(side, 0)), labelled.get(side, 0)))
            for side, rate in accuracy.items()
            if rate is not None
        }
    compared = summary.get("compared") or summary.get("images") or 0
    out["findings"] = [
        {"kind": f.kind, "images": f.images, "share": _rounded(wilson(f.images, compared))} for f in findings
    ]
    return out


def _rounded(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [round(interval[0], 6), round(interval[1], 6)]
