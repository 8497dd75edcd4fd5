"""The candidate skews the black-box replay tries, read from the detectors that declare them.

Each detector declares the candidates of its kinds next to its ``detect`` (``SPEC.replay``;
skewcheck/diagnose/replay.py says what a candidate is). This module only orders them: ties
between candidates that explain an endpoint equally well go to the plainer explanation, so a
channel swap or a ×255 comes before a re-rendering of the file.
"""

from __future__ import annotations

from skewcheck.diagnose.replay import Candidate, ReplayImage

__all__ = ["Candidate", "ReplayImage", "all_candidates"]

# the order ties are broken in: value candidates (on the tensor) first, then re-renderings of the file
PLAINER_FIRST = (
    "channel-order",
    "scale",
    "normalization",
    "dtype",
    "resize",
    "crop",
    "orientation",
    "color-profile",
    "alpha",
    "jpeg-decoder",
)


def all_candidates() -> list[Candidate]:
    """Every detector's candidates, plainer explanations first (kinds not listed above: last, by name)."""
    from skewcheck.diagnose import specs

    declared = [c for _, spec in specs() if spec.replay is not None for c in spec.replay()]
    rank = {kind: i for i, kind in enumerate(PLAINER_FIRST)}
    return sorted(declared, key=lambda c: (rank.get(c.kind, len(rank)), c.kind if c.kind not in rank else ""))
