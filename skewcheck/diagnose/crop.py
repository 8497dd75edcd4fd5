"""crop: the sides map the image's aspect ratio to the tensor differently.

Cause: one side squashes the whole image to the target size, the other centre-crops first
(torchvision's Resize(256) + CenterCrop(224)), or letterboxes with padding. Evidence: the geometry
each side matches when the original is re-rendered both ways. Fix: use one geometry.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.reference import affine_residual, to_hwc3
from skewcheck.diagnose.rerender import GEOMETRIES, RESIZERS
from skewcheck.findings import Observation, Severity

MAX_PIXELS = 4_000_000


CLEAR = 0.6  # the best geometry must leave at most this share of the runner-up's residual


def best_geometry(x, rgb, renders=None) -> str | None:  # type: ignore[no-untyped-def]
    """The geometry that explains ``x`` clearly better than the others, or None. ``renders``: a
    dict that keeps the re-rendered original per tensor size, shared by both sides of a pair."""
    hw = x.shape[:2]
    if renders is None or hw not in renders:
        rendered = {name: RESIZERS["pil.bilinear"](geo(rgb, hw), hw) for name, geo in GEOMETRIES.items()}
        if renders is None:
            renders = {}
        renders[hw] = rendered
    scores = {name: affine_residual(x, render) for name, render in renders[hw].items()}
    ranked = sorted(scores, key=scores.get)
    return ranked[0] if scores[ranked[0]] <= CLEAR * scores[ranked[1]] else None


def detect(ctx: PairContext) -> list[Observation]:
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.rgb is None:
        return []
    if ctx.found_kinds & {"orientation"}:
        return []
    rgb = ref.rgb_oriented
    hw = stats.residual.shape[:2]
    if rgb.shape[0] * rgb.shape[1] > MAX_PIXELS:
        return []
    if abs((rgb.shape[1] / rgb.shape[0]) / (hw[1] / hw[0]) - 1) < 0.02:
        return []  # same aspect ratio: cropping and squashing are the same thing
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if t is None or s is None:
        return []
    renders: dict = {}  # both sides are scored against the same re-renders: draw them once
    geometry = {"train": best_geometry(t, rgb, renders), "serve": best_geometry(s, rgb, renders)}
    if None in geometry.values() or geometry["train"] == geometry["serve"]:
        return []
    return [
        Observation(
            "crop", Severity.MAJOR, "serve", geometry,
            f"train {geometry['train']}s the {rgb.shape[1]}×{rgb.shape[0]} image to {hw[1]}×{hw[0]}, "
            f"serve {geometry['serve']}s it: the framing differs.",
            f"Use the training geometry ({geometry['train']}) in serving.",
            1.0,
            merge_on=(),
        )
    ]
