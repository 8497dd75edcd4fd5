"""A tally (and its reference's) as the profile's plain data: shares with intervals, drift."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from skewcheck.comparison.intervals import wilson
from skewcheck.profile.drift import numeric_drift, share_difference
from skewcheck.profile.properties import CATEGORIES, NUMBERS, TRAITS
from skewcheck.profile.tally import Tally


def _share(count: int, total: int) -> dict[str, Any]:
    interval = wilson(count, total)
    return {
        "count": count,
        "share": round(count / total, 6) if total else None,
        "ci95": [round(interval[0], 6), round(interval[1], 6)] if interval else None,
    }


def _difference(k1: int, n1: int, k2: int, n2: int) -> dict[str, Any] | None:
    found = share_difference(k1, n1, k2, n2)
    if found is None:
        return None
    d, (low, high) = found
    return {"value": round(d, 6), "ci95": [round(low, 6), round(high, 6)]}


def traits(current: Tally, reference: Tally | None) -> dict[str, Any]:
    """Each trait's share of every file (failures included), and its difference to the reference."""
    out = {}
    for name, (phrase, _) in TRAITS.items():
        entry = {"carries": phrase, **_share(current.traits[name], current.files)}
        if reference is not None:
            entry["reference"] = _share(reference.traits[name], reference.files)
            entry["difference"] = _difference(
                current.traits[name], current.files, reference.traits[name], reference.files
            )
        out[name] = entry
    return out


def categories(current: Tally, reference: Tally | None) -> dict[str, Any]:
    """Each category's values: count and share here (and in the reference), most frequent first."""
    out: dict[str, Any] = {}
    for name in CATEGORIES:
        here = current.categories[name]
        there = reference.categories[name] if reference is not None else None
        n1, n2 = sum(here.values()), sum(there.values()) if there is not None else 0
        if not n1 and not n2:
            continue
        seen = there if there is not None else Counter()
        keys = sorted(set(here) | set(seen), key=lambda v: (-here[v], -seen[v], v))
        values = {}
        for value in keys:
            entry = _share(here[value], n1)
            if there is not None:
                entry["reference"] = _share(there[value], n2)
                entry["difference"] = _difference(here[value], n1, there[value], n2)
            values[value] = entry
        out[name] = {"files": n1, **({"reference_files": n2} if there is not None else {}), "values": values}
    return out


def _describe(values: np.ndarray) -> dict[str, Any] | None:
    if not len(values):
        return None
    p = np.quantile(values, [0.05, 0.5, 0.95])
    return {
        "count": int(len(values)),
        "mean": round(float(values.mean()), 6),
        "min": round(float(values.min()), 6),
        "p05": round(float(p[0]), 6),
        "median": round(float(p[1]), 6),
        "p95": round(float(p[2]), 6),
        "max": round(float(values.max()), 6),
    }


def numbers(current: Tally, reference: Tally | None, seed: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (unit, _) in NUMBERS.items():
        here = current.values(name)
        entry: dict[str, Any] = {"unit": unit, **(_describe(here) or {"count": 0})}
        if reference is not None:
            there = reference.values(name)
            entry["reference"] = _describe(there) or {"count": 0}
            if len(here) and len(there):
                entry["drift"] = numeric_drift(here, there, seed)
        if entry["count"] or entry.get("reference", {}).get("count"):
            out[name] = entry
    return out
