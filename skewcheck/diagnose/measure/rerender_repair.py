"""Re-render repairs: move serve by exactly the difference a named cause makes, nothing more.

The cause's evidence names what each side did (``resize``: train ≈ pil.bilinear, serve ≈
opencv.INTER_LINEAR; ``crop``: squash vs center-crop; ``color-profile``: which side ignores the
ICC profile). Both renderings of the original file are made, their difference is mapped through
serve's own value convention (a per-channel affine fit of serve on its rendering, in RGB or BGR
order) and added to serve. What the cause does not explain (a watermark, another decoder) stays
in the repaired tensor, so it is not credited to this cause.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from skewcheck.diagnose.measure.fit import fit_line
from skewcheck.diagnose.measure.reference import RGB_BGR, Reference
from skewcheck.tensor_layout import is_chw

if TYPE_CHECKING:
    from skewcheck.diagnose.context import PairContext


def transplant(
    v: np.ndarray, render_train: np.ndarray, render_serve: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray | None:
    """``v`` (H×W×C serve, C = 3 or 4) plus the train-minus-serve rendering difference, in serve's
    value convention and channel order; only where ``mask`` is true when given."""
    if v.ndim != 3 or v.shape[-1] not in (3, 4) or render_serve.shape[:2] != v.shape[:2]:
        return None
    out = v.copy()
    best: tuple[float, tuple[int, ...], list[tuple[float, float]]] | None = None  # (error, order, lines)
    for order in RGB_BGR:
        err, lines = 0.0, []
        for c in range(3):
            x, y = render_serve[..., order[c]].ravel(), v[..., c].ravel()
            a, b = fit_line(x, y)
            lines.append((a, b))
            err += float(np.mean((y - (a * x + b)) ** 2))
        if best is None or err < best[0]:
            best = (err, order, lines)
    assert best is not None
    _, order, lines = best
    for c in range(3):
        delta = lines[c][0] * (render_train[..., order[c]] - render_serve[..., order[c]])
        out[..., c] += delta if mask is None else np.where(mask, delta, 0.0)
    return out


Renders = tuple[np.ndarray, np.ndarray]  # (train's rendering, serve's rendering) of the file at one size
Apply = Callable[["PairContext", np.ndarray, set[str]], "np.ndarray | None"]


def source_rgb(evidence: dict, ref: Reference) -> np.ndarray | None:
    """The pixels the detector re-rendered (``resampled``: reference.resampled_source), when small enough."""
    source = evidence.get("resampled")
    rgb = ref.source(source if isinstance(source, str) else None)
    return None if rgb is None or rgb.shape[0] * rgb.shape[1] > 4_000_000 else rgb


def rerendered(kind: str, renders: Callable[[dict, Reference, tuple[int, int]], Renders | None]) -> Apply:
    """The repair of a cause whose evidence names how each side rendered the file: serve moved by
    the difference between ``renders(evidence, reference, hw)``'s two renderings (:func:`transplant`)."""

    def apply(ctx: PairContext, v: np.ndarray, wanted: set[str]) -> np.ndarray | None:
        obs = next((o for o in ctx.found if o.kind == kind), None)
        ref = ctx.reference
        if obs is None or ref is None or v.ndim != 3:
            return None
        both = renders(obs.evidence, ref, v.shape[:2])
        return transplant(v, *both) if both is not None else None

    return apply


def train_values(ctx: PairContext) -> np.ndarray:
    """Train's tensor channels last, in float64: what a repair moves serve toward."""
    t = ctx.train.tensor
    assert t is not None
    return np.moveaxis(t, 0, -1).astype(np.float64) if is_chw(t) else t.astype(np.float64)


def transparent_mask(ref: Reference, hw: tuple[int, int]) -> np.ndarray | None:
    """Where the file is not fully opaque, at ``hw`` (nearest neighbour), as H×W×1 booleans."""
    if ref.alpha is None:
        return None
    from PIL import Image

    small = np.asarray(Image.fromarray(ref.alpha).resize((hw[1], hw[0]), Image.Resampling.NEAREST))
    return (small < 255)[..., None]
