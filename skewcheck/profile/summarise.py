"""A tally (and its reference's) as the profile's plain data: shares with intervals, drift."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from skewcheck.comparison.intervals import wilson
from skewcheck.profile.drift import newcombe, numeric_drift, share_difference
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


Z_BONFERRONI = 2.241402727604947  # two 97.5 % intervals: both hold together at least 95 % of the time


def decode_failure_share(tally: Tally) -> dict[str, Any]:
    """The ``decode_failure`` trait. Header failures are counted on every file; the failures only
    a full decode finds are known on the pixel sample. When it covers every file whose headers are
    whole, a plain count; else the share is extrapolated, ``a + (1 − a) q`` (``a`` the header
    failures' share of every file, ``q`` the decode failures' share of the decoded sample), and its
    interval maps the corners of the 97.5 % Wilson intervals of ``a`` and ``q`` (the share grows
    with both, so it holds at least 95 % of the time). ``count`` is the files found failing."""
    n, h = tally.files, tally.header_failures
    s, f = tally.decode_checked, tally.decode_failures
    found = h + f
    if s >= n - h:
        return _share(found, n)
    estimated = {"header_failures": h, "decoded": s, "decode_failures": f, "headers_whole": n - h}
    wa = wilson(h, n, Z_BONFERRONI)
    wq = wilson(f, s, Z_BONFERRONI)
    if wa is None or wq is None:  # no file decoded: what the headers show, up to every file
        low = wilson(h, n)
        return {
            "count": found,
            "share": round(h / n, 6) if n else None,
            "ci95": [round(low[0], 6), 1.0] if low else None,
            "estimated": estimated,
        }
    a, q = h / n, f / s
    share = a + (1 - a) * q
    ci = (wa[0] + (1 - wa[0]) * wq[0], wa[1] + (1 - wa[1]) * wq[1])
    return {
        "count": found,
        "share": round(share, 6),
        "ci95": [round(ci[0], 6), round(ci[1], 6)],
        "estimated": estimated,
    }


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
    here = decode_failure_share(current)
    there = decode_failure_share(reference) if reference is not None else None
    if "estimated" in here or (there is not None and "estimated" in there):
        entry = {"carries": TRAITS["decode_failure"][0], **here}
        if there is not None:
            entry["reference"] = there
            entry["difference"] = _estimated_difference(here, there)
        out["decode_failure"] = entry
    return out


def _estimated_difference(here: dict[str, Any], there: dict[str, Any]) -> dict[str, Any] | None:
    if here["share"] is None or there["share"] is None or here["ci95"] is None or there["ci95"] is None:
        return None
    w1, w2 = here["ci95"], there["ci95"]
    d, (low, high) = newcombe(here["share"], (w1[0], w1[1]), there["share"], (w2[0], w2[1]))
    return {"value": round(d, 6), "ci95": [round(low, 6), round(high, 6)]}


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
