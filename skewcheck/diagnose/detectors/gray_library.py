"""Which library made the gray image, for the color-conversion detector: two gray tensors with the
same BT.601 weights that differ by each library's own integer arithmetic.

Pillow ``Image.convert("L")`` computes ``(R·19595 + G·38470 + B·7471 + 0x8000) >> 16`` (16-bit
fixed point, rounded); ``cv2.cvtColor(COLOR_RGB2GRAY)`` on uint8 is fixed point too, with its own
coefficients (OpenCV 4.x/5: 15-bit, 9798 · 19235 · 3735, rounded); ``tf.image.rgb_to_grayscale``
on uint8 scales to [0, 1] in float32, weighs by (0.2989, 0.587, 0.114) and converts back by
``x · 255.5`` truncated (``tf.image.convert_image_dtype``). Pillow and OpenCV disagree by one gray
level on a fraction of a percent of pixels, TensorFlow and the others by one level on about a
quarter of them (it truncates, they round).

Each side's tensor is matched against the file converted by each library, before or after the
resize that side uses (re-rendered with each resizer), up to an affine value map: the library
whose rendering the tensor reproduces (nearly) exactly is that side's. Evidence: the library
each side matches, its rendering order, the share of the side's pixels it reproduces exactly and
the share of pixels on which the two libraries' renderings of the file disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.rerender import MORE_RESIZERS
from skewcheck.diagnose.run_state import FitFirst

Converter = Callable[[np.ndarray], np.ndarray]  # uint8 H×W×3 RGB -> uint8 H×W gray


def _pillow(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).convert("L"))


def _opencv(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def _tf(rgb: np.ndarray) -> np.ndarray:
    """``tf.image.rgb_to_grayscale`` on uint8, in NumPy float32 (no TensorFlow import in a
    tensor-only audit); tests/diagnose/detectors/test_gray_library.py checks it against the real call."""
    x = rgb.astype(np.float32) * np.float32(1 / 255)
    gray = x[..., 0] * np.float32(0.2989) + x[..., 1] * np.float32(0.587) + x[..., 2] * np.float32(0.114)
    return (gray * np.float32(255.5)).astype(np.uint8)  # convert_image_dtype: scale by max + 0.5, truncate


LIBRARIES: dict[str, Converter] = {"pillow": _pillow, "opencv": _opencv, "tf": _tf}
WHERE = {
    "pillow": "pillow convert('L')",
    "opencv": "cv2.cvtColor(COLOR_RGB2GRAY)",
    "tf": "tf.image.rgb_to_grayscale",
}
CLEAR = 0.6  # a side's library must leave at most this share of what the other side's library leaves
EXPLAINS = 0.5  # and swapping the libraries must remove at least half of the pair's difference
EXACT = 0.05  # a pixel is reproduced when it is this close (in gray levels) to the rendering
NO_RESIZE = "gray (no resize)"


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def render(ctx: PairContext, rgb: np.ndarray, library: str, how: str, hw: tuple[int, int]) -> np.ndarray:
    """The file converted by ``library`` at ``hw`` (float64 H×W): ``how`` is ``"gray → RESIZER"``
    (converted, then resized), ``"RESIZER → gray"`` (resized, then converted) or ``NO_RESIZE``."""
    from skewcheck.diagnose.detectors.color_conversion import _render
    from skewcheck.diagnose.measure.rerender import RESIZERS, TF_RESIZERS

    convert = LIBRARIES[library]
    if how == NO_RESIZE:
        return convert(rgb).astype(np.float64)
    first, second = how.split(" → ")
    if first == "gray":
        gray = ctx.memo(("gray_library.full", library, rgb.shape), lambda: convert(rgb)[..., None])
        return {**RESIZERS, **TF_RESIZERS}[second](gray, hw)[..., 0]
    return convert(_u8(_render(ctx, rgb, first, hw))).astype(np.float64)


def _fit(x: np.ndarray, candidate: np.ndarray) -> tuple[float, float, float]:
    """(relative RMS left, share of pixels reproduced exactly, slope) of ``x ≈ a·candidate + b``."""
    from skewcheck.diagnose.measure.fit import fit_line

    a, b = fit_line(candidate.ravel(), x.ravel())
    left = x - (a * candidate + b)
    rel = float(np.sqrt(np.mean(left**2))) / (float(x.std()) or 1.0)
    exact = float(np.mean(np.abs(left) <= EXACT * max(abs(a), 1e-12)))
    return rel, exact, a


def _hows(rgb: np.ndarray, hw: tuple[int, int], fitting: FitFirst) -> tuple[str, ...]:
    if rgb.shape[:2] == hw:
        return (NO_RESIZE,)
    every = tuple(f"gray → {r}" for r in MORE_RESIZERS) + tuple(f"{r} → gray" for r in MORE_RESIZERS)
    return fitting.candidates(every)


def _side_scores(
    ctx: PairContext, x: np.ndarray, rgb: np.ndarray, hows: tuple[str, ...]
) -> dict[str, tuple[float, float, str]]:
    """Per library: (relative residual, exact share, rendering) of its best rendering for ``x``."""
    out: dict[str, tuple[float, float, str]] = {}
    hw = (int(x.shape[0]), int(x.shape[1]))
    for how in hows:
        for library in LIBRARIES:
            rel, exact, _ = _fit(x, render(ctx, rgb, library, how, hw))
            if library not in out or rel < out[library][0]:
                out[library] = (rel, exact, how)
    return out


def _tied(scores: dict[str, tuple[float, float, str]]) -> list[str]:
    """The libraries whose best rendering fits as well as the best one (identical renderings of
    this image: Pillow and OpenCV agree on most pixels, and after a resize often on all)."""
    best = min(v[0] for v in scores.values())
    return sorted(n for n, v in scores.items() if v[0] <= best * (1 + 1e-6) + 1e-12)


def which_library(ctx: PairContext, t: np.ndarray, s: np.ndarray, rgb: np.ndarray) -> dict[str, Any] | None:
    """Evidence when both gray tensors (H×W, BT.601 weights) are told apart by the library that
    converted them, and swapping the libraries explains the pair; None otherwise.

    A side that two libraries reproduce equally well on this image (their renderings are the
    same here) takes the library the run told it apart by on earlier images; until one did, the
    image names its candidates (``train_candidates``) and leaves ``train`` out, so the run's
    evidence shows only what was told."""
    if ctx.within_tolerance or np.array_equal(t, s):
        return None
    from skewcheck.diagnose.detectors.color_conversion import ColorConversionState

    state = ctx.run.of(ColorConversionState)
    fitting, told = state.gray_library_how, state.gray_library_told
    hw = (int(t.shape[0]), int(t.shape[1]))
    scores = {
        side: _side_scores(ctx, x, rgb, _hows(rgb, hw, fitting[side])) for side, x in (("train", t), ("serve", s))
    }
    tied = {side: _tied(sc) for side, sc in scores.items()}
    if set(tied["train"]) & set(tied["serve"]):
        return None  # one library reproduces both sides as well as any other: not told apart here
    for side, other in (("train", "serve"), ("serve", "train")):
        mine = scores[side][tied[side][0]][0]
        if not mine < CLEAR * min(scores[side][n][0] for n in tied[other]):
            return None  # this side is not clearly told apart from the other side's library
    how = {side: scores[side][tied[side][0]][2] for side in ("train", "serve")}
    g_train, g_serve = (render(ctx, rgb, tied[side][0], how["serve"], hw) for side in ("train", "serve"))
    repaired = transplant(s, g_train, g_serve)
    before, after = _fit(t, s)[0], _fit(t, repaired)[0]
    if not after <= EXPLAINS * before:
        return None
    evidence: dict[str, Any] = {"cause": "gray library", "weights": "bt601"}
    for side in ("train", "serve"):
        if how[side] != NO_RESIZE:
            fitting[side].chose(how[side])
        if len(tied[side]) == 1:
            told[side].append(tied[side][0])
        earlier = [n for n in told[side] if n in tied[side]]
        if earlier:
            evidence[side] = max(earlier, key=earlier.count)
        else:
            evidence[f"{side}_candidates"] = " or ".join(tied[side])
    evidence.update(
        {
            "train_render": how["train"],
            "serve_render": how["serve"],
            "train_exact": round(scores["train"][tied["train"][0]][1], 4),
            "serve_exact": round(scores["serve"][tied["serve"][0]][1], 4),
            "libraries_disagree": round(float(np.mean(g_train != g_serve)), 4),
        }
    )
    return evidence


def named(evidence: dict[str, Any], side: str) -> str:
    """How the report names a side's library: the library's call, or its candidates' calls."""
    if side in evidence:
        return WHERE[evidence[side]]
    return " or ".join(WHERE[n] for n in str(evidence.get(f"{side}_candidates", "")).split(" or ") if n in WHERE)


def transplant(v: np.ndarray, gray_train: np.ndarray, gray_serve: np.ndarray) -> np.ndarray:
    """``v`` (H×W serve) moved by train's library's rendering minus serve's, in serve's values."""
    _, _, a = _fit(v, gray_serve)
    return v + a * (gray_train - gray_serve)


def repaired(ctx: PairContext, v: np.ndarray, evidence: dict[str, Any]) -> np.ndarray | None:
    """Serve (H×W) re-converted with train's library, rendered the way serve's tensor was."""
    ref = ctx.reference
    names = tuple(
        evidence.get(side) or str(evidence.get(f"{side}_candidates", "")).split(" or ")[0]
        for side in ("train", "serve")
    )
    how = evidence.get("serve_render")
    if ref is None or ref.rgb_oriented is None or not all(n in LIBRARIES for n in names) or not isinstance(how, str):
        return None
    hw = (int(v.shape[0]), int(v.shape[1]))
    g_train, g_serve = (render(ctx, ref.rgb_oriented, str(n), how, hw) for n in names)
    return transplant(v, g_train, g_serve)
