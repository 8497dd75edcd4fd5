"""Distances between a profiled set and its reference, each with a 95 % interval.

Numbers (sizes, quality, pixel statistics):

* **PSI** (population stability index) ``Σ (p − q) · ln(p / q)`` over bins whose edges are the
  reference's deciles; each edge value is a bin of its own, so a discrete property (widths, JPEG
  qualities) compares value by value, and an empty bin counts as a share of 0.0001. Usual
  reading: below 0.1 stable, 0.1-0.25 a moderate shift, above 0.25 a major one.
* **Wasserstein-1** (earth mover's) distance between the two empirical distributions, in the
  property's own unit: how far, on average, values must move to turn one set into the other.

Both come with a **noise floor**: the 95th percentile of the same distance between random splits
of the two sets pooled (``PERMUTATIONS`` seeded permutations, each on at most ``PERMUTATION_CAP``
values a side): what two samples of one distribution, of these sizes, show. A distance above
its floor is drift, not sampling noise. (A percentile bootstrap interval of these distances is
biased upward, all the more on small sets, where two resamples of identical sets already
differ: it would report drift where there is none.) Categories (format, EXIF orientation, ICC profile …) get
the difference of shares with Newcombe's hybrid score interval (method 10, from Wilson's).
"""

from __future__ import annotations

import math

import numpy as np

from skewcheck.comparison.intervals import Z95, wilson

EMPTY_BIN = 1e-4
DECILES = np.linspace(0.1, 0.9, 9)
PERMUTATIONS = 200
PERMUTATION_CAP = 2000


def psi_edges(reference: np.ndarray) -> np.ndarray:
    return np.unique(np.quantile(reference, DECILES))


def _binned(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index: 2i below edge i (above edge i-1), 2i+1 exactly on edge i."""
    left = np.searchsorted(edges, values, side="left")
    on_edge = np.zeros(values.shape, dtype=bool)
    inside = left < len(edges)
    on_edge[inside] = edges[left[inside]] == values[inside]
    return 2 * left + on_edge


def _psi_of_bins(current: np.ndarray, reference: np.ndarray, bins: int) -> float:
    p = np.bincount(current, minlength=bins) / max(1, len(current))
    q = np.bincount(reference, minlength=bins) / max(1, len(reference))
    p, q = np.maximum(p, EMPTY_BIN), np.maximum(q, EMPTY_BIN)
    return float(np.sum((p - q) * np.log(p / q)))


def psi(current: np.ndarray, reference: np.ndarray) -> float:
    edges = psi_edges(reference)
    return _psi_of_bins(_binned(current, edges), _binned(reference, edges), 2 * len(edges) + 1)


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """W1 between the empirical distributions of ``a`` and ``b`` (the area between their CDFs)."""
    a, b = np.sort(a), np.sort(b)
    both = np.concatenate([a, b])
    both.sort()
    widths = np.diff(both)
    cdf_a = np.searchsorted(a, both[:-1], side="right") / len(a)
    cdf_b = np.searchsorted(b, both[:-1], side="right") / len(b)
    return float(np.sum(np.abs(cdf_a - cdf_b) * widths))


def numeric_drift(current: np.ndarray, reference: np.ndarray, seed: int = 0) -> dict[str, object]:
    """PSI and W1 of two non-empty samples, each with its permutation noise floor."""
    edges = psi_edges(reference)
    bins = 2 * len(edges) + 1
    rng = np.random.default_rng(seed)
    n_cur, n_ref = min(len(current), PERMUTATION_CAP), min(len(reference), PERMUTATION_CAP)
    pooled = np.concatenate([current, reference])
    psis, dists = np.empty(PERMUTATIONS), np.empty(PERMUTATIONS)
    for i in range(PERMUTATIONS):
        order = rng.permutation(len(pooled))
        a, b = pooled[order[:n_cur]], pooled[order[len(pooled) - n_ref :]]
        psis[i] = _psi_of_bins(_binned(a, edges), _binned(b, edges), bins)
        dists[i] = wasserstein(a, b)
    return {
        "psi": _round(_psi_of_bins(_binned(current, edges), _binned(reference, edges), bins)),
        "psi_noise95": _round(np.quantile(psis, 0.95)),
        "wasserstein": _round(wasserstein(current, reference)),
        "wasserstein_noise95": _round(np.quantile(dists, 0.95)),
    }


def share_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, tuple[float, float]] | None:
    """(p1 − p2, Newcombe's 95 % interval of it); None when a set is empty."""
    w1, w2 = wilson(k1, n1, Z95), wilson(k2, n2, Z95)
    if w1 is None or w2 is None:
        return None
    return newcombe(k1 / n1, w1, k2 / n2, w2)


def newcombe(
    p1: float, w1: tuple[float, float], p2: float, w2: tuple[float, float]
) -> tuple[float, tuple[float, float]]:
    """(p1 − p2, Newcombe's hybrid interval of it) from each share and its own 95 % interval
    (Wilson's for a count; an extrapolated share's own, skewcheck/profile/summarise.py)."""
    d = p1 - p2
    low = d - math.sqrt((p1 - w1[0]) ** 2 + (w2[1] - p2) ** 2)
    high = d + math.sqrt((w1[1] - p1) ** 2 + (p2 - w2[0]) ** 2)
    return d, (max(-1.0, low), min(1.0, high))


def _round(value: float) -> float:
    return round(float(value), 6)
