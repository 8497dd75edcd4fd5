"""Detectors: each explains one kind of difference between the two outcomes of an image.

Order matters: later detectors see what earlier ones found (``ctx.found``), so the catch-all
``prediction`` runs last and stays quiet when a tensor-level cause is known.
"""

from __future__ import annotations

from collections.abc import Callable

from skewcheck.diagnose import (
    channel_order,
    decode_tolerance,
    dtype,
    normalization,
    pipeline_error,
    prediction,
    scale,
    shape_layout,
)
from skewcheck.diagnose.context import PairContext
from skewcheck.findings import Observation

Detector = Callable[[PairContext], list[Observation]]

DETECTORS: tuple[Detector, ...] = (
    shape_layout.detect,
    dtype.detect,
    scale.detect,
    normalization.detect,
    channel_order.detect,
    decode_tolerance.detect,
    pipeline_error.detect,
    prediction.detect,
)


def diagnose(ctx: PairContext) -> list[Observation]:
    for detector in DETECTORS:
        ctx.found.extend(detector(ctx))
    return list(ctx.found)
