"""crop: the sides frame the image differently before resizing it to the tensor.

Cause: one side squashes the whole image to the target size, the other centre-crops to the
aspect ratio first, letterboxes with padding, or zooms in on the centre (torchvision's
Resize(256) + CenterCrop(224) keeps 87.5 %, other services 75-95 %). Evidence: the framing each
side matches when the original is re-rendered each way (``squash``, ``center-crop``,
``letterbox``, ``center-75%`` …). Fix: one framing on both sides. The side is ``unknown`` (either
framing can be the trained one) until labels tell. The search settles: when the first 16 images
it ran on show no other framing, the rest are not re-rendered (``summary.diagnosis.settled``).
"""

from __future__ import annotations

from skewcheck.diagnose import settle
from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.reference import affine_residual, to_hwc3
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.rerender import (
    CENTER_FRACTIONS,
    GEOMETRIES,
    RESIZERS,
    center_fraction,
    zoom_name,
)
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("crop",), reads=("orientation",))

MAX_PIXELS = 4_000_000
SEARCH = "crop framings"  # the settling search (skewcheck/diagnose/settle.py)

CLEAR = 0.6  # the best geometry must leave at most this share of the runner-up's residual


def best_geometry(x, rgb, renders=None) -> str | None:
    """The geometry that explains ``x`` clearly better than the others, or None. ``renders``: a
    dict that keeps the re-rendered original per tensor size, shared by both sides of a pair."""
    hw = x.shape[:2]
    if renders is None or hw not in renders:
        rendered = {name: RESIZERS["pil.bilinear"](geo(rgb, hw), hw) for name, geo in GEOMETRIES.items()}
        if renders is None:
            renders = {}
        renders[hw] = rendered
    scores = {name: affine_residual(x, render) for name, render in renders[hw].items()}
    ranked = sorted(scores, key=lambda k: scores[k])
    return ranked[0] if scores[ranked[0]] <= CLEAR * scores[ranked[1]] else None


ZOOM_FITTED = 8  # images on which every zoom is tried; later ones confirm the fitted pair only


def best_zoom(x, rgb, fractions=CENTER_FRACTIONS) -> float | None:
    """The centre-zoom fraction that explains ``x`` clearly better than the others, or None."""
    if len(fractions) < 2:
        return None  # one candidate is never clearly better than the others
    hw = x.shape[:2]
    bilinear = RESIZERS["pil.bilinear"]
    scores = {f: affine_residual(x, bilinear(center_fraction(rgb, f), hw)) for f in fractions}
    ranked = sorted(scores, key=lambda k: scores[k])
    return ranked[0] if len(ranked) > 1 and scores[ranked[0]] <= CLEAR * scores[ranked[1]] else None


def _zooms(ctx: PairContext, t, s, rgb) -> dict[str, str | None]:
    """Fit the zoom of each side on the first images; afterwards only the fitted pair is tried."""
    fitted = ctx.shared.setdefault("crop_zooms", [])
    if len(fitted) >= ZOOM_FITTED:
        pair = max(set(fitted), key=fitted.count)
        candidates = tuple(sorted(set(pair) | {1.0}))
    else:
        candidates = CENTER_FRACTIONS
    zoom = {"train": best_zoom(t, rgb, candidates), "serve": best_zoom(s, rgb, candidates)}
    if None in zoom.values():
        return {"train": None, "serve": None}
    if len(fitted) < ZOOM_FITTED:
        fitted.append((zoom["train"], zoom["serve"]))
    return {side: zoom_name(f) for side, f in zoom.items()}  # type: ignore[arg-type]


def detect(ctx: PairContext) -> list[Observation]:
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.rgb is None:
        return []
    if ctx.found_kinds & {"orientation"}:
        return []
    rgb = ref.rgb_oriented
    hw = stats.shape[:2]
    if rgb is None or rgb.shape[0] * rgb.shape[1] > MAX_PIXELS or not settle.wanted(ctx.shared, SEARCH):
        return []
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if t is None or s is None:
        return []
    geometry = _framings(ctx, t, s, rgb, hw)
    settle.ran(ctx.shared, SEARCH, geometry is not None)
    if geometry is None:
        return []
    return [
        Observation(
            "crop",
            Severity.MAJOR,
            "unknown",
            geometry,
            f"train frames the {rgb.shape[1]}×{rgb.shape[0]} image as {geometry['train']}, serve as "
            f"{geometry['serve']}, before resizing to {hw[1]}×{hw[0]}: the framing differs.",
            f"Frame the image the same way on both sides, as the model was trained (train: {geometry['train']}, "
            f"serve: {geometry['serve']}).",
            1.0,
            merge_on=(),
            repair=("crop",),
        )
    ]


def _framings(ctx: PairContext, t, s, rgb, hw) -> dict[str, str] | None:
    """Each side's framing when they differ clearly, else None."""
    geometry: dict[str, str | None] = {"train": None, "serve": None}
    if abs((rgb.shape[1] / rgb.shape[0]) / (hw[1] / hw[0]) - 1) >= 0.02:  # else cropping to aspect = squashing
        renders: dict = {}  # both sides are scored against the same re-renders: draw them once
        geometry = {"train": best_geometry(t, rgb, renders), "serve": best_geometry(s, rgb, renders)}
    if None in geometry.values() or geometry["train"] == geometry["serve"]:
        geometry = _zooms(ctx, t, s, rgb)
    if None in geometry.values() or geometry["train"] == geometry["serve"]:
        return None
    return geometry  # type: ignore[return-value]
