"""Which images get the expensive checks: seeded, spread over the run, the same for any chunking.

Membership depends only on an image's index in the (deterministic) file order and the seed, so
the report is the same with or without worker processes and for any batch size.
"""

from __future__ import annotations

import math

import numpy as np

ATTRIBUTION_SAMPLE = 256  # images spread over the run on which every repair is measured
PER_FINDING = 32  # besides, each finding's first images (and first flipped images) up to this many
REPEAT_MIN, REPEAT_SHARE, REPEAT_MAX = 32, 0.05, 256  # images run twice to catch randomness left on


def _spread(total: int, count: int, seed: int) -> frozenset[int]:
    if count >= total:
        return frozenset(range(total))
    rng = np.random.default_rng(seed)
    return frozenset(int(i) for i in rng.choice(total, size=count, replace=False))


class AttributionSample:
    def __init__(self, total: int, seed: int = 0, size: int = ATTRIBUTION_SAMPLE) -> None:
        self.indices = _spread(total, size, seed)

    def __contains__(self, index: int) -> bool:
        return index in self.indices


def repeat_count(total: int) -> int:
    """32 images or 5 % of the run, whichever is larger, at most 256 (all when fewer)."""
    return min(total, max(REPEAT_MIN, min(REPEAT_MAX, math.ceil(REPEAT_SHARE * total))))


def repeat_indices(total: int, seed: int = 1) -> frozenset[int]:
    return _spread(total, repeat_count(total), seed)


def miss_probability(repeats: int, differs: float = 0.05) -> float:
    """Odds that randomness changing a share ``differs`` of repeated runs shows on none of ``repeats``."""
    return (1.0 - differs) ** repeats
