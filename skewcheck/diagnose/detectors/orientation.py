"""orientation: a flip, rotation or transpose of the train tensor explains the serve tensor.

Cause: one side applies the EXIF orientation tag (``ImageOps.exif_transpose``, tf.io does not),
the other decodes the stored pixels as they are; or a flip augmentation left on in serving.
Evidence: the transform, the file's EXIF orientation, the side that ignores it. Fix: apply
``ImageOps.exif_transpose`` (or the equivalent) on both sides.
"""

from __future__ import annotations

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.fit import fit_line, rms
from skewcheck.diagnose.measure.reference import affine_residual, to_hwc3
from skewcheck.diagnose.measure.rerender_repair import train_values
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.replay import Candidate, at, moved
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
DIHEDRAL_EXACT = 0.1  # without an EXIF tag, the flipped tensor must match closely (augmentation)
CLEAR = 0.7  # stored vs upright: one must leave at most this share of the other's residual


EXIF_TRANSFORM = {
    2: "flip-left-right",
    3: "rotate-180",
    4: "flip-up-down",
    5: "transpose",
    6: "rotate-90-cw",
    7: "transverse",
    8: "rotate-90-ccw",
}
FIX = (
    "Apply the EXIF orientation on both sides (PIL.ImageOps.exif_transpose; OpenCV's imread and "
    "imdecode do by default, IMREAD_IGNORE_ORIENTATION does not; tf.io.decode_* never does)."
)


def detect(ctx: PairContext) -> list[Observation]:
    if not ctx.both_ok:
        return []
    fit = ctx.value_fit
    if ctx.within_tolerance or (fit is not None and fit.model != "unexplained"):
        return []
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if t is None or s is None or t.shape[:2] == (1, 1) or not (np.isfinite(t).all() and np.isfinite(s).all()):
        return []
    ref = ctx.reference
    if ref is not None and ref.exif_orientation in EXIF_TRANSFORM and ref.rgb is not None:
        return _exif_observation(ref, t, s)
    return _dihedral_observation(t, s)


def _exif_observation(ref, t: np.ndarray, s: np.ndarray) -> list[Observation]:
    """The file has an orientation tag: which side matches the stored pixels, which the rotated?"""
    ignores = {}
    for side, x in (("train", t), ("serve", s)):
        raw = affine_residual(x, _render(ref.rgb, x.shape[:2]))
        oriented = affine_residual(x, _render(ref.rgb_oriented, x.shape[:2]))
        ignores[side] = True if raw < CLEAR * oriented else (False if oriented < CLEAR * raw else None)
    if None in ignores.values() or ignores["train"] == ignores["serve"]:
        return []
    side = "train" if ignores["train"] else "serve"
    exif = ref.exif_orientation
    return [
        Observation(
            "orientation",
            Severity.MAJOR,
            side,
            {"exif_orientation": exif, "transform": EXIF_TRANSFORM[exif]},
            f"{side} ignores the EXIF orientation tag: it sees the pixels as stored (flipped or rotated), "
            "the other side the image upright.",
            FIX,
            1.0,
            merge_on=(),
            repair=("orientation",),
        )
    ]


def _affine_rms(t: np.ndarray, s: np.ndarray) -> float:
    """RMS left after the best global ``s ≈ a·t + b`` (scale and offset conventions drop out)."""
    x, y = t.ravel(), s.ravel()
    a, b = fit_line(x, y)
    return rms(y - (a * x + b))


def _render(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    from skewcheck.diagnose.measure.rerender import RESIZERS

    return rgb.astype(np.float64) if rgb.shape[:2] == hw else RESIZERS["pil.bilinear"](rgb, hw[:2])


def _dihedral_observation(t: np.ndarray, s: np.ndarray) -> list[Observation]:
    """No orientation tag: does a flip / rotation of train give serve (augmentation left on)?"""
    before = _affine_rms(t, s) if t.shape == s.shape else float(np.std(s)) or 1.0
    best: tuple[float, str] | None = None
    for name, transform in TRANSFORMS.items():
        moved = np.ascontiguousarray(transform(t))
        if moved.shape != s.shape:
            continue
        residual = _affine_rms(moved, s)  # one cheap global fit per transform, not the full search
        if best is None or residual < best[0]:
            best = (residual, name)
    if best is None or best[0] > ACCEPT * before or best[0] > DIHEDRAL_EXACT * (float(np.std(s)) or 1.0):
        return []
    return [
        Observation(
            "orientation",
            Severity.MAJOR,
            "serve",
            {"transform": best[1]},
            f"serve is train transformed by {best[1]}: one side flips or rotates the image (augmentation left on?).",
            "Remove flips/rotations from the serving path (augmentation belongs to training only).",
            1 - best[0] / before if before else 1.0,
            merge_on=(),
            repair=("orientation",),
        )
    ]


DIHEDRAL = (
    lambda x: x,
    lambda x: x[:, ::-1],
    lambda x: x[::-1],
    lambda x: x[::-1, ::-1],
    lambda x: np.rot90(x, 1),
    lambda x: np.rot90(x, 3),
    lambda x: np.swapaxes(x, 0, 1),
    lambda x: np.rot90(x, 2).swapaxes(0, 1),
)


def repaired(ctx: PairContext, v: np.ndarray, wanted: set[str]) -> np.ndarray:
    """The flip / rotation of ``v`` that best matches train up to a global affine map."""
    if v.ndim < 2:
        return v
    tv = train_values(ctx)
    best, best_rms = v, np.inf
    for transform in DIHEDRAL:
        moved = transform(v)
        if moved.shape != tv.shape:
            continue
        a, b = fit_line(tv.ravel(), moved.ravel())
        left = rms(moved.ravel() - (a * tv.ravel() + b))
        if left < best_rms:
            best, best_rms = moved, left
    return np.ascontiguousarray(best)


def replay() -> list[Candidate]:
    """The black-box replay's candidate (skewcheck/diagnose/replay.py): the file without its EXIF orientation."""
    return [
        Candidate(
            "EXIF orientation ignored",
            "orientation",
            {"exif": "ignored"},
            "The serving stack ignores the EXIF orientation: apply it (PIL.ImageOps.exif_transpose) as training does.",
            moved(_no_exif, "exif"),
            True,
        )
    ]


def _no_exif(ref, hw: tuple[int, int]) -> np.ndarray | None:
    return at(ref.rgb, hw) if ref.exif_orientation != 1 else None


SPEC = DetectorSpec(kinds=("orientation",), pure=True, repairs={"orientation": repaired}, replay=replay)
