"""alpha: the difference sits on the transparent pixels of an image with an alpha channel.

Cause: one side drops alpha and keeps the hidden RGB under it (``img.convert("RGB")``, cv2's
default), the other composites on white or black, or ignores the palette's transparency.
Evidence: the share of the difference on transparent pixels and what each side shows there.
Fix: composite explicitly on the same background on both sides. The side is the one that shows
the hidden RGB under transparent pixels (undefined content: alpha was dropped), ``unknown`` when
both composite, on different backgrounds.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.fit import fit_line
from skewcheck.diagnose.measure.reference import to_hwc3
from skewcheck.diagnose.measure.rerender_repair import train_values, transparent_mask
from skewcheck.diagnose.measure.residual import abs_residual
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.replay import Candidate, at, moved
from skewcheck.findings import Observation, Severity

SHARE = 0.8  # at least this share of |difference| on transparent pixels


def detect(ctx: PairContext) -> list[Observation]:
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.alpha is None or ref.rgb is None:
        return []
    if ref.exif_orientation != 1 or "crop" in ctx.found_kinds:
        return []
    hw = (stats.shape[0], stats.shape[1])
    mask = np.asarray(Image.fromarray(ref.alpha).resize((hw[1], hw[0]), Image.Resampling.NEAREST)) < 255
    if not mask.any() or mask.all():
        return []
    pair = ctx.fitted_pair
    if pair is None:
        return []
    absr = abs_residual(pair[1], pair[0], pair[2])
    share = float(absr[mask].sum() / max(absr.sum(), 1e-12))
    if share < SHARE:
        return []
    evidence = {
        "train": _background(ctx.train.tensor, ref.rgb, ref.alpha, hw),
        "serve": _background(ctx.serve.tensor, ref.rgb, ref.alpha, hw),
    }
    if evidence["train"] == evidence["serve"] and evidence["train"] in ("white", "black", "hidden RGB"):
        return []  # both show the same there: the difference on the soft edge is another cause's (a resampler's)
    hidden = [side for side, shown in evidence.items() if shown == "hidden RGB"]
    side = hidden[0] if len(hidden) == 1 else "unknown"
    return [
        Observation(
            "alpha",
            Severity.MAJOR,
            side,
            evidence,
            f"{share:.0%} of the difference is on transparent pixels: train shows {evidence['train']}, "
            f"serve shows {evidence['serve']} there.",
            "Composite on one explicit background on both sides, e.g. Image.alpha_composite over "
            "white, before converting to RGB.",
            share,
            measures={"transparent_share_of_diff": round(share, 3)},
            merge_on=(),
            repair=("alpha",),
        )
    ]


def _background(tensor: np.ndarray | None, rgb: np.ndarray, alpha: np.ndarray, hw: tuple[int, int]) -> str:
    """What a side puts where alpha is 0: the hidden RGB, white, black, or something else."""
    x = to_hwc3(tensor) if tensor is not None else None
    if x is None or x.shape[:2] != hw:
        return "unknown"
    small_rgb = np.asarray(Image.fromarray(rgb).resize((hw[1], hw[0]), Image.Resampling.NEAREST), dtype=np.float64)
    small_alpha = np.asarray(Image.fromarray(alpha).resize((hw[1], hw[0]), Image.Resampling.NEAREST))
    opaque, clear = small_alpha == 255, small_alpha == 0
    if opaque.sum() < 4 or not clear.any():
        return "unknown"
    # the side's value convention, fitted on opaque pixels: tensor = a * pixel + b (all channels)
    a, b = fit_line(small_rgb[opaque].ravel(), x[opaque].ravel())
    seen = x[clear]
    options = {"hidden RGB": small_rgb[clear], "white": np.full_like(seen, 255.0), "black": np.zeros_like(seen)}
    errors = {name: float(np.mean(np.abs(seen - (a * v + b)))) for name, v in options.items()}
    best = min(errors, key=lambda k: errors[k])
    return best if errors[best] <= 0.1 * max(abs(a) * 255, 1e-12) else "another colour"


def repaired(ctx: PairContext, v: np.ndarray, wanted: set[str]) -> np.ndarray | None:
    """On the file's transparent pixels only, serve replaced by train's rendering under serve's
    value convention (the value fit applied to train). Under a ``residual`` repair, which replaces
    every pixel that way, there is nothing left to do here."""
    if "residual" in wanted:
        return v
    mask = transparent_mask(ctx.reference, v.shape[:2]) if ctx.reference is not None and v.ndim == 3 else None
    if mask is None:
        return None
    fit = ctx.value_fit
    tv = train_values(ctx)
    return np.where(mask, fit.apply(tv) if fit is not None else tv, v)


def replay() -> list[Candidate]:
    """The black-box replay's candidates (skewcheck/diagnose/replay.py): the file composited on white and on black."""
    return [
        Candidate(
            f"alpha on {colour}",
            "alpha",
            {"serve": f"composites on {colour}"},
            f"The serving stack composites transparent pixels on {colour}: handle alpha as training does.",
            moved(_on(background), f"alpha-{colour}"),
            True,
        )
        for colour, background in (("white", 255.0), ("black", 0.0))
    ]


def _on(background: float):
    def make(ref, hw: tuple[int, int]) -> np.ndarray | None:
        rgb = ref.rgb
        if ref.alpha is None or rgb is None or ref.exif_orientation != 1:
            return None
        a = ref.alpha.astype(np.float64)[..., None] / 255.0
        return at(np.round(rgb * a + background * (1 - a)).astype(np.uint8), hw)

    return make


SPEC = DetectorSpec(kinds=("alpha",), reads=("crop",), repairs={"alpha": repaired}, replay=replay)
