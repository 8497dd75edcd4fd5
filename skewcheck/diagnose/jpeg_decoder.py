"""jpeg-decoder: small, evenly spread differences on a JPEG that was not resized.

Cause: libjpeg's IDCT method (tf.io.decode_jpeg defaults to the fast integer IDCT, PIL and
OpenCV to the accurate one) or chroma upsampling (fancy vs nearest). Evidence: mean and max
difference on the 0-255 scale, and the even spread (edge/flat ratio near 1). Fix: decode with the
same library and settings (tf: ``dct_method="INTEGER_ACCURATE"``).
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.findings import Observation, Severity

MAX_MEAN_255 = 4.0


def detect(ctx: PairContext) -> list[Observation]:
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.format != "JPEG":
        return []
    if ctx.found_kinds & {"alpha", "color-profile", "crop", "orientation", "resize"}:
        return []
    if stats.mean_abs_255 > MAX_MEAN_255:
        return []
    evidence = {"mean_abs_255": round(stats.mean_abs_255, 2), "max_abs_255": round(stats.max_abs_255, 1),
                "edge_ratio": round(stats.edge_ratio, 2)}  # fmt: skip
    return [
        Observation(
            "jpeg-decoder", Severity.MINOR, "serve", {},
            f"small, evenly spread differences on a JPEG (mean {stats.mean_abs_255:.2f}/255, max "
            f"{stats.max_abs_255:.0f}/255): the JPEG decoders differ (IDCT method or chroma upsampling).",
            "Decode JPEGs with the same library on both sides; with TensorFlow pass "
            "dct_method='INTEGER_ACCURATE' to match PIL/OpenCV.",
            evidence["mean_abs_255"] / 255,
            measures=evidence,
            repair=("residual",),
        )
    ]
