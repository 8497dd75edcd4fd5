"""crop: the sides frame the image differently before resizing it to the tensor.

Cause: one side squashes the whole image to the target size, the other centre-crops to the
aspect ratio first, letterboxes with padding, or zooms in on the centre (other services keep
75-95 %), or both: torchvision's Resize(256) + CenterCrop(224) crops a non-square image to the
square, then keeps 87.5 % of it. Evidence: the framing each side matches when the original is
re-rendered each way (``squash``, ``center-crop``, ``letterbox``, ``center-75%``,
``center-crop-87.5%`` …). Fix: one framing on both sides. The side is ``unknown`` (either
framing can be the trained one) until labels tell. The search settles: when the first 16 images
it ran on show no other framing, the rest are not re-rendered (``summary.diagnosis.settled``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skewcheck.diagnose import settle
from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.reference import affine_residual, resampled_source, to_hwc3
from skewcheck.diagnose.measure.rerender import (
    CENTER_FRACTIONS,
    GEOMETRIES,
    RESIZERS,
    ZOOMS,
    center_fraction,
    crop_zoom_name,
    framing,
    zoom_name,
    zoom_names,
)
from skewcheck.diagnose.measure.rerender_repair import Renders, rerendered, source_rgb
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.replay import Candidate, at, moved
from skewcheck.diagnose.run_state import FitFirst
from skewcheck.findings import Observation, Severity

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


@dataclass
class CropState:
    zooms: FitFirst = field(default_factory=lambda: FitFirst("crop zooms (train, serve)", ZOOM_FITTED))


def best_zooms(sides: dict[str, np.ndarray], rgb, names: tuple[str, ...]) -> dict[str, str | None]:
    """Per side, the zoom framing (:data:`rerender.ZOOMS`) that explains it clearly better than the
    others, or None; each framing is rendered once for both sides."""
    if len(names) < 2:
        return dict.fromkeys(sides)  # one candidate is never clearly better than the others
    hw = next(iter(sides.values())).shape[:2]
    bilinear = RESIZERS["pil.bilinear"]
    renders = {n: bilinear(ZOOMS[n](rgb, hw), hw) for n in names}
    out: dict[str, str | None] = {}
    for side, x in sides.items():
        scores = {n: affine_residual(x, r) for n, r in renders.items()}
        ranked = sorted(scores, key=lambda k: scores[k])
        clear = scores[ranked[0]] <= CLEAR * scores[ranked[1]]
        # neighbouring fractions (0.85, 0.875, 0.9) render alike, and a crop rounded another way
        # sits between them: a zoom clearly nearer than the whole image is a zoom all the same
        whole = scores.get(zoom_name(1.0))
        zoomed = ranked[0] != zoom_name(1.0) and whole is not None and scores[ranked[0]] <= CLEAR * CLEAR * whole
        out[side] = ranked[0] if clear or zoomed else None
    return out


def _zoomed(x, rgb, geometry: str | None, rendered: dict) -> str | None:
    """``geometry`` refined: a squash or crop to the aspect that keeps only the centre of it
    (torchvision's Resize + CenterCrop) when such a zoom explains ``x`` clearly better."""
    family = {"squash": zoom_name, "center-crop": crop_zoom_name}.get(geometry or "")
    if family is None:
        return geometry
    hw = x.shape[:2]
    bilinear = RESIZERS["pil.bilinear"]
    base = affine_residual(x, rendered[geometry])
    scores = {family(f): affine_residual(x, bilinear(ZOOMS[family(f)](rgb, hw), hw)) for f in CENTER_FRACTIONS[1:]}
    best = min(scores, key=lambda k: scores[k])
    return best if scores[best] <= CLEAR * base else geometry


def _zooms(ctx: PairContext, t, s, rgb, aspect_differs: bool) -> dict[str, str | None]:
    """Fit the zoom of each side on the first images; afterwards only the fitted pair is tried."""
    fitting = ctx.run.of(CropState).zooms
    names = zoom_names(aspect_differs)
    if fitting.fitted:
        names = tuple(n for n in names if n in {*fitting.choice, zoom_name(1.0)})
    zoom = best_zooms({"train": t, "serve": s}, rgb, names)
    if None in zoom.values():
        return {"train": None, "serve": None}
    fitting.chose((zoom["train"], zoom["serve"]))
    return zoom


def detect(ctx: PairContext) -> list[Observation]:
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.rgb is None:
        return []
    if ctx.found_kinds & {"orientation"}:
        return []
    source = resampled_source(ref, ctx.train.tensor)
    rgb = ref.source(source)
    hw = stats.shape[:2]
    if rgb is None or rgb.shape[0] * rgb.shape[1] > MAX_PIXELS or not settle.wanted(ctx.run, SEARCH):
        return []
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if t is None or s is None:
        return []
    geometry = _framings(ctx, t, s, rgb, hw)
    settle.ran(ctx.run, SEARCH, geometry is not None)
    if geometry is None:
        return []
    evidence: dict[str, str] = {**geometry, **({"resampled": source} if source else {})}
    return [
        Observation(
            "crop",
            Severity.MAJOR,
            "unknown",
            evidence,
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
    aspect_differs = abs((rgb.shape[1] / rgb.shape[0]) / (hw[1] / hw[0]) - 1) >= 0.02
    if aspect_differs:  # else cropping to aspect = squashing
        renders: dict = {}  # both sides are scored against the same re-renders: draw them once
        geometry = {"train": best_geometry(t, rgb, renders), "serve": best_geometry(s, rgb, renders)}
        if None not in geometry.values() and geometry["train"] != geometry["serve"]:
            geometry = {side: _zoomed(x, rgb, geometry[side], renders[hw]) for side, x in (("train", t), ("serve", s))}
    if None in geometry.values() or geometry["train"] == geometry["serve"]:
        geometry = _zooms(ctx, t, s, rgb, aspect_differs)
    if None in geometry.values() or geometry["train"] == geometry["serve"]:
        return None
    return geometry  # type: ignore[return-value]


def renders(evidence: dict, ref, hw: tuple[int, int]) -> Renders | None:
    """The file framed as each side's named framing (the repair: rerender_repair.rerendered)."""
    rgb = source_rgb(evidence, ref)
    frames = [framing(n) if isinstance(n, str) else None for n in (evidence.get("train"), evidence.get("serve"))]
    if rgb is None or frames[0] is None or frames[1] is None:
        return None
    bilinear = RESIZERS["pil.bilinear"]
    return bilinear(frames[0](rgb, hw), hw), bilinear(frames[1](rgb, hw), hw)


def replay() -> list[Candidate]:
    """The black-box replay's candidate (skewcheck/diagnose/replay.py): the file center-cropped to 87.5 %."""
    return [
        Candidate(
            "center crop 87.5 %",
            "crop",
            {"serve": "center-crop-0.875"},
            "The serving stack center-crops (resize 256, crop 224 style) where training does not: frame the image as training does.",
            moved(_center(0.875), "crop"),
            True,
        )
    ]


def _center(fraction: float):
    return lambda ref, hw: at(center_fraction(ref.rgb_oriented, fraction), hw) if ref.rgb_oriented is not None else None


SPEC = DetectorSpec(
    kinds=("crop",),
    reads=("orientation",),
    state=CropState,
    repairs={"crop": rerendered("crop", renders)},
    replay=replay,
)
