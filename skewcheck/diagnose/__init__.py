"""Detectors: each explains one kind of difference between the two outcomes of an image.

Order matters: later detectors see what earlier ones found (``ctx.found``), so the catch-all
``prediction`` runs last and stays quiet when a tensor-level cause is known.
"""

from __future__ import annotations

from collections.abc import Callable

from skewcheck.diagnose import (
    alpha,
    channel_order,
    color_profile,
    crop,
    decode_tolerance,
    dtype,
    jpeg_decoder,
    model_range,
    nondeterminism,
    normalization,
    orientation,
    pipeline_error,
    prediction,
    resize,
    scale,
    shape_layout,
)
from skewcheck.diagnose.context import PairContext
from skewcheck.findings import Observation

Detector = Callable[[PairContext], list[Observation]]

DETECTORS: tuple[Detector, ...] = (
    orientation.detect,
    shape_layout.detect,
    dtype.detect,
    scale.detect,
    model_range.detect,
    normalization.detect,
    channel_order.detect,
    crop.detect,
    alpha.detect,
    color_profile.detect,
    resize.detect,
    jpeg_decoder.detect,
    nondeterminism.detect,
    decode_tolerance.detect,
    pipeline_error.detect,
    prediction.detect,
)


def diagnose(ctx: PairContext) -> list[Observation]:
    """Run every detector; one that fails on an odd tensor is recorded, never fatal to the audit."""
    for detector in DETECTORS:
        try:
            ctx.found.extend(detector(ctx))
        except Exception as exc:  # noqa: BLE001 (a detector bug must not end the audit)
            ctx.detector_errors.append(f"{detector.__module__.rsplit('.', 1)[1]}: {type(exc).__name__}: {exc}")
    return list(ctx.found)
