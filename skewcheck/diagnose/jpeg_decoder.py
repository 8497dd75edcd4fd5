"""jpeg-decoder: small, evenly spread differences on a JPEG that was not resized.

Cause: libjpeg's IDCT method (tf.io.decode_jpeg defaults to the fast integer IDCT, PIL and
OpenCV to the accurate one) or chroma upsampling (fancy vs nearest). Evidence: mean and max
difference on the 0-255 scale, and the even spread (edge/flat ratio near 1). Fix: decode with the
same library and settings (tf: ``dct_method="INTEGER_ACCURATE"``). The side is the one farther
from libjpeg's accurate decode of the file (Pillow's, the reference), ``unknown`` when both are
as close.
"""

from __future__ import annotations

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.reference import affine_residual, to_hwc3
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("jpeg-decoder",), reads=("alpha", "color-profile", "crop", "orientation", "resize"))

MAX_MEAN_255 = 4.0


def detect(ctx: PairContext) -> list[Observation]:
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.format != "JPEG":
        return []
    if ctx.found_kinds & {"alpha", "color-profile", "crop", "orientation", "resize"}:
        return []
    if stats.mean_abs_255 > MAX_MEAN_255:
        return []
    evidence = {
        "mean_abs_255": round(stats.mean_abs_255, 2),
        "max_abs_255": round(stats.max_abs_255, 1),
        "edge_ratio": round(stats.edge_ratio, 2),
    }
    side = _side_off_accurate(ctx)
    return [
        Observation(
            "jpeg-decoder",
            Severity.MINOR,
            side,
            {},
            f"small, evenly spread differences on a JPEG (mean {stats.mean_abs_255:.2f}/255, max "
            f"{stats.max_abs_255:.0f}/255): the JPEG decoders differ (IDCT method or chroma upsampling).",
            (
                f"Decode JPEGs in {side} with libjpeg's accurate IDCT like the other side"
                if side in ("train", "serve")
                else "Decode JPEGs with the same library on both sides"
            )
            + "; with TensorFlow pass dct_method='INTEGER_ACCURATE' to match PIL/OpenCV.",
            evidence["mean_abs_255"] / 255,
            measures=evidence,
            repair=("residual",),
        )
    ]


CLEAR = 0.7  # one side must be this much closer to the accurate decode than the other


def _side_off_accurate(ctx: PairContext) -> str:
    """The side whose tensor is farther from Pillow's (libjpeg accurate IDCT) decode of the file;
    the first image that tells decides the run (one cause, one finding)."""
    decided = ctx.shared.get("jpeg_decoder_side")
    if decided is None:
        decided = _measure_side(ctx)
        if decided != "unknown":
            ctx.shared["jpeg_decoder_side"] = decided
    return decided


def _measure_side(ctx: PairContext) -> str:
    ref = ctx.reference
    rgb = ref.rgb_oriented if ref is not None else None
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if rgb is None or t is None or s is None or t.shape[:2] != rgb.shape[:2] or s.shape[:2] != rgb.shape[:2]:
        return "unknown"
    pixels = rgb.astype(np.float64)
    off = {"train": affine_residual(t, pixels), "serve": affine_residual(s, pixels)}
    if off["train"] <= CLEAR * off["serve"]:
        return "serve"
    if off["serve"] <= CLEAR * off["train"]:
        return "train"
    return "unknown"
