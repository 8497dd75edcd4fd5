"""orientation: a flip, rotation or transpose of the train tensor explains the serve tensor.

Cause: one side applies the EXIF orientation tag (``ImageOps.exif_transpose``, tf.io does not),
the other decodes the stored pixels as they are; or a flip augmentation left on in serving.
Evidence: the transform, the file's EXIF orientation, the side that ignores it. Fix: apply
``ImageOps.exif_transpose`` (or the equivalent) on both sides.
"""

from __future__ import annotations

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.fit import fit_values
from skewcheck.diagnose.reference import affine_residual, to_hwc3
from skewcheck.findings import Observation, Severity

TRANSFORMS = {
    "flip-left-right": lambda x: x[:, ::-1],
    "flip-up-down": lambda x: x[::-1],
    "rotate-180": lambda x: x[::-1, ::-1],
    "rotate-90-ccw": lambda x: np.rot90(x, 1),
    "rotate-90-cw": lambda x: np.rot90(x, 3),
    "transpose": lambda x: np.swapaxes(x, 0, 1),
    "transverse": lambda x: np.rot90(x, 2).swapaxes(0, 1),
}
ACCEPT = 0.35  # the transform must remove at least 65 % of the difference


def detect(ctx: PairContext) -> list[Observation]:
    if not ctx.both_ok:
        return []
    fit = ctx.value_fit
    if fit is not None and fit.model != "unexplained":
        return []
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if t is None or s is None or t.shape[:2] == (1, 1):
        return []
    before = float(np.sqrt(np.mean((s - t) ** 2))) if t.shape == s.shape else float(np.std(s)) or 1.0
    best: tuple[float, str] | None = None
    for name, transform in TRANSFORMS.items():
        moved = np.ascontiguousarray(transform(t))
        if moved.shape != s.shape:
            continue
        f = fit_values(moved, s)
        residual = f.residual if f.model != "unexplained" else float(np.sqrt(np.mean((s - moved) ** 2)))
        if best is None or residual < best[0]:
            best = (residual, name)
    if best is None or best[0] > ACCEPT * before:
        return []
    exif = ctx.reference.exif_orientation if ctx.reference else 1
    side = _side_ignoring_exif(ctx, t, s) if exif != 1 else "serve"
    evidence = {"transform": best[1], "exif_orientation": exif}
    cause = (f"{side} ignores the EXIF orientation tag ({exif})" if exif != 1
             else "one side flips or rotates the image (augmentation left on?)")  # fmt: skip
    return [
        Observation(
            "orientation", Severity.MAJOR, side, evidence,
            f"serve is train transformed by {best[1]}: {cause}.",
            "Apply the EXIF orientation on both sides (PIL.ImageOps.exif_transpose; OpenCV's imread "
            "does, imdecode with IMREAD_IGNORE_ORIENTATION does not; tf.io.decode_* never does).",
            1 - best[0] / before if before else 1.0,
        )
    ]


def _side_ignoring_exif(ctx: PairContext, t: np.ndarray, s: np.ndarray) -> str:
    """The side whose tensor looks like the stored (untransposed) pixels."""
    from skewcheck.diagnose.rerender import RESIZERS

    raw = ctx.reference.rgb if ctx.reference else None
    if raw is None:
        return "serve"
    scores = {}
    for side, x in (("train", t), ("serve", s)):
        if raw.shape[:2] == x.shape[:2]:
            candidate = raw.astype(np.float64)
        else:
            candidate = RESIZERS["pil.bilinear"](raw, x.shape[:2])
        scores[side] = affine_residual(x, candidate)
    return min(scores, key=scores.get)
