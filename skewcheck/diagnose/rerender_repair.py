"""Re-render repairs: move serve by exactly the difference a named cause makes, nothing more.

The cause's evidence names what each side did (``resize``: train ≈ pil.bilinear, serve ≈
opencv.INTER_LINEAR; ``crop``: squash vs center-crop; ``color-profile``: which side ignores the
ICC profile). Both renderings of the original file are made, their difference is mapped through
serve's own value convention (a per-channel affine fit of serve on its rendering, in RGB or BGR
order) and added to serve. What the cause does not explain (a watermark, another decoder) stays
in the repaired tensor, so it is not credited to this cause.
"""

from __future__ import annotations

import numpy as np

from skewcheck.diagnose.fit import fit_line
from skewcheck.diagnose.reference import RGB_BGR, Reference


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


def renders_for(kind: str, evidence: dict, ref: Reference, hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """(train's rendering, serve's rendering) of the file at ``hw`` for a cause, when evidence names both."""
    from skewcheck.diagnose.rerender import RESIZERS, TF_RESIZERS, framing

    source = evidence.get("resampled")  # what the detector re-rendered (reference.resampled_source)
    rgb = ref.source(source if isinstance(source, str) else None)
    if rgb is None or rgb.shape[0] * rgb.shape[1] > 4_000_000:
        return None
    resizers = {**RESIZERS, **TF_RESIZERS}
    if kind == "resize":
        train, serve = evidence.get("train"), evidence.get("serve")
        if not (isinstance(train, str) and isinstance(serve, str) and train in resizers and serve in resizers):
            return None
        return resizers[train](rgb, hw), resizers[serve](rgb, hw)
    if kind == "crop":
        frames = [framing(n) if isinstance(n, str) else None for n in (evidence.get("train"), evidence.get("serve"))]
        if None in frames:
            return None
        bilinear = RESIZERS["pil.bilinear"]
        return tuple(bilinear(frame(rgb, hw), hw) for frame in frames)  # type: ignore[return-value,misc]
    if kind == "color-profile":
        raw, managed = ref.rgb, ref.colour_managed_rgb
        if raw is None or managed is None or ref.exif_orientation != 1:
            return None
        bilinear = RESIZERS["pil.bilinear"]
        naive = raw.astype(np.float64) if raw.shape[:2] == hw else bilinear(raw, hw)
        cms = managed.astype(np.float64) if managed.shape[:2] == hw else bilinear(managed, hw)
        return (naive, cms) if evidence.get("ignores") == "train" else (cms, naive)
    return None


def transparent_mask(ref: Reference, hw: tuple[int, int]) -> np.ndarray | None:
    """Where the file is not fully opaque, at ``hw`` (nearest neighbour), as H×W×1 booleans."""
    if ref.alpha is None:
        return None
    from PIL import Image

    small = np.asarray(Image.fromarray(ref.alpha).resize((hw[1], hw[0]), Image.Resampling.NEAREST))
    return (small < 255)[..., None]
