"""Colour conversions between two 3-channel tensors, for the color-conversion detector.

Two causes: one side feeds the model gray replicated to three channels (``convert("L")`` then
``convert("RGB")``, ``cv2.COLOR_GRAY2RGB``) where the other gives true colour; one side passes
the image through a YCbCr / YUV round trip (``cv2.COLOR_RGB2YUV`` and back, Pillow
``convert("YCbCr")`` and back, as video and mobile camera paths do), whose uint8 rounding and
clipping the other side does not have. Evidence: the gray weights fitted on the gray side (R, G,
B, summing to 1, from the other side's colour channels), or the round trip each side matches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from skewcheck.diagnose import settle
from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.fit import rms
from skewcheck.diagnose.measure.rerender import USUAL_RESIZERS

RoundTrip = Callable[[np.ndarray], np.ndarray]  # uint8 RGB -> uint8 RGB


def _cv2_trip(forward: str, back: str) -> RoundTrip:
    def trip(u: np.ndarray) -> np.ndarray:
        import cv2

        return cv2.cvtColor(cv2.cvtColor(np.ascontiguousarray(u), getattr(cv2, forward)), getattr(cv2, back))

    return trip


def _pil_ycbcr(u: np.ndarray) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(u)).convert("YCbCr").convert("RGB"))


ROUND_TRIPS: dict[str, RoundTrip] = {
    "cv2 RGB→YUV→RGB": _cv2_trip("COLOR_RGB2YUV", "COLOR_YUV2RGB"),
    "cv2 RGB→YCrCb→RGB": _cv2_trip("COLOR_RGB2YCrCb", "COLOR_YCrCb2RGB"),
    "PIL YCbCr→RGB": _pil_ycbcr,
}
CLEAR = 0.6  # a side's match must leave at most this share of what the other explanation leaves
SEARCH = "color-conversion round trips"  # the settling search (skewcheck/diagnose/settle.py)
SMALL_255 = 12.0  # round trips move pixels by a few levels: bigger differences are another cause's
GRAY_NAMES = {
    "bt601": (0.299, 0.587, 0.114),
    "bt601-on-bgr": (0.114, 0.587, 0.299),
    "bt709": (0.2126, 0.7152, 0.0722),
    "mean": (1 / 3, 1 / 3, 1 / 3),
}


def hwc3(x: np.ndarray | None) -> np.ndarray | None:
    """A true 3-channel tensor (HWC or CHW) as H×W×3 float64; None otherwise (1-channel is not)."""
    if x is None or not np.issubdtype(np.asarray(x).dtype, np.number):
        return None
    t = np.asarray(x, dtype=np.float64)
    if t.ndim != 3:
        return None
    if t.shape[0] == 3 and t.shape[-1] != 3:
        t = np.moveaxis(t, 0, -1)
    return t if t.shape[-1] == 3 and min(t.shape[:2]) >= 4 else None


def is_replicated(x: np.ndarray) -> bool:
    span = float(np.ptp(x)) or 1.0
    return bool(
        np.max(np.abs(x[..., 0] - x[..., 1])) <= 1e-6 * span and np.max(np.abs(x[..., 1] - x[..., 2])) <= 1e-6 * span
    )


def gray_fit(gray: np.ndarray, colour: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(weights w, offset b, relative RMS left) of ``gray ≈ colour · w + b`` (w not normalised)."""
    design = np.column_stack([colour.reshape(-1, 3), np.ones(gray.size)])
    coef, *_ = np.linalg.lstsq(design, gray.ravel(), rcond=None)
    left = rms(gray.ravel() - design @ coef)
    return coef[:3], float(coef[3]), left / (float(gray.std()) or 1.0)


def name_weights(w: np.ndarray) -> str | None:
    for name, ref in GRAY_NAMES.items():
        if float(np.abs(w - np.array(ref)).max()) <= 0.03:
            return name
    return None


def replicated_gray(ctx: PairContext) -> dict[str, Any] | None:
    """Evidence when exactly one side is gray replicated to three channels and the other is colour."""
    t, s = hwc3(ctx.train.tensor), hwc3(ctx.serve.tensor)
    if t is None or s is None or t.shape != s.shape:
        return None
    gray_side = [side for side, x in (("train", t), ("serve", s)) if is_replicated(x)]
    if len(gray_side) != 1:
        return None
    g, c = (t, s) if gray_side[0] == "train" else (s, t)
    span = float(np.ptp(c)) or 1.0
    if float(np.abs(c - c.mean(axis=-1, keepdims=True)).max()) <= 2 / 255 * span:
        return None  # the colour side is gray too (a gray file)
    w, b, left = gray_fit(g[..., 0], c)
    k = float(w.sum())
    if abs(k) < 1e-12 or left > 0.25:
        return None
    weights = w / k
    named = name_weights(weights)
    label = "gray replicated to 3 channels" + (f" ({named})" if named else "")
    other = "train" if gray_side[0] == "serve" else "serve"
    return {
        "cause": "replicated gray",
        gray_side[0]: label,
        other: "colour",
        f"{gray_side[0]}_weights": [round(float(v), 3) for v in weights],
        "_fit": (gray_side[0], w, b),
    }


def repaired_replicated(ctx: PairContext, v: np.ndarray, fitted: tuple[str, np.ndarray, float]) -> np.ndarray | None:
    """Serve (H×W×3, train's layout) given train's colour structure: gray→colour or colour→gray."""
    gray_side, w, _ = fitted
    t = hwc3(ctx.train.tensor)
    if t is None or v.shape != t.shape:
        return None
    k = float(w.sum())
    if gray_side == "serve":  # v = t·w + b on every channel: give it train's colour under that map
        return v + k * t - (t @ w)[..., None]
    return np.repeat((v @ (w / k))[..., None], 3, axis=-1)  # serve colour, train gray: replicate serve's gray


def _render(rgb: np.ndarray, name: str, hw: tuple[int, int]) -> np.ndarray:
    from skewcheck.diagnose.measure.rerender import RESIZERS

    return rgb.astype(np.float64) if rgb.shape[:2] == hw else RESIZERS[name](rgb, hw)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def _variants(
    ctx: PairContext, rgb: np.ndarray, hw: tuple[int, int], x: np.ndarray, side: str
) -> dict[str, np.ndarray]:
    """The file at ``hw`` with the resizer that explains ``x`` best, plain and through each round
    trip (applied after the resize, or at decode before it). The resizer is fitted per side: the
    two sides may resize differently, and a render with the other side's resizer leaves a residual
    that a round trip could appear to explain."""
    from skewcheck.diagnose.detectors.color_conversion import ColorConversionState
    from skewcheck.diagnose.measure.reference import affine_residual

    fitting = ctx.run.of(ColorConversionState).round_trip_resizer[side]
    names = fitting.candidates(USUAL_RESIZERS)
    renders = {n: _render(rgb, n, hw) for n in names}
    best = min(renders, key=lambda n: affine_residual(x, renders[n]))
    fitting.chose(best)
    plain = renders[best]
    out = {"none": plain}
    for name, trip in ROUND_TRIPS.items():
        out[name] = trip(_u8(plain)).astype(np.float64)
        out[name + " (at decode)"] = _render(trip(np.ascontiguousarray(rgb)), best, hw)
    return out


CONVENTIONS = ((255.0, 0.0), (127.5, 127.5), (1.0, 0.0))  # pixel = a·x + b: [0, 1], [-1, 1], raw


def _pixels(x: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """``x`` as the uint8 pixels it was made of, when one common convention makes it integral."""
    for a, b in CONVENTIONS:
        p = a * x + b
        if p.min() >= -0.01 and p.max() <= 255.01 and float(np.abs(p - np.round(p)).max()) <= 0.01:
            return _u8(p), a, b
    return None


def tensor_round_trip(t: np.ndarray, s: np.ndarray) -> dict[str, str] | None:
    """One tensor is the other's pixels through a round trip exactly (no file needed)."""
    for side, x, y in (("serve", t, s), ("train", s, t)):
        px, py = _pixels(x), _pixels(y)
        if px is None or py is None or px[1:] != py[1:] or np.array_equal(px[0], py[0]):
            continue
        for name, trip in ROUND_TRIPS.items():
            if np.abs(trip(px[0]).astype(np.int16) - py[0]).max() <= 1:
                other = "train" if side == "serve" else "serve"
                return {"cause": "round trip", side: name, other: "none"}
    return None


def round_trip(ctx: PairContext) -> dict[str, Any] | None:
    """Evidence when one side matches a YCbCr/YUV round trip of the file and the other does not."""
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or stats.mean_abs_255 > SMALL_255 or ref is None:
        return None
    if not settle.wanted(ctx.run, SEARCH):
        return None
    found = _round_trip(ctx, ref.rgb_oriented)
    settle.ran(ctx.run, SEARCH, found is not None)
    return found


def _round_trip(ctx: PairContext, rgb: np.ndarray | None) -> dict[str, Any] | None:
    t, s = hwc3(ctx.train.tensor), hwc3(ctx.serve.tensor)
    if t is not None and s is not None and t.shape == s.shape:
        exact = tensor_round_trip(t, s)
        if exact is not None:
            return {"cause": "round trip", "train": exact["train"], "serve": exact["serve"]}
    if (
        rgb is None
        or rgb.ndim != 3
        or t is None
        or s is None
        or t.shape != s.shape
        or rgb.shape[0] * rgb.shape[1] > 4_000_000
    ):
        return None
    return _named_round_trip(ctx, rgb, t, s)


def _named_round_trip(ctx: PairContext, rgb: np.ndarray, t: np.ndarray, s: np.ndarray) -> dict[str, Any] | None:
    from skewcheck.diagnose.measure.reference import affine_residual

    named, variants = {}, {}
    for side, x in (("train", t), ("serve", s)):
        variants[side] = _variants(ctx, rgb, x.shape[:2], x, side)
        scores = {
            n: affine_residual(x, r) for n, r in variants[side].items()
        }  # either channel order: a swap is its own cause
        ranked = sorted(scores, key=lambda n: scores[n])
        if scores[ranked[0]] > CLEAR * scores[ranked[1]] and not (
            ranked[0].startswith(ranked[1]) or ranked[1].startswith(ranked[0])
        ):
            return None  # no clear match on this side
        named[side] = ranked[0]
    if named["train"] == named["serve"] or "none" not in named.values():
        return None
    return {"cause": "round trip", "train": named["train"], "serve": named["serve"]}


def repaired_round_trip(ctx: PairContext, v: np.ndarray, evidence: dict[str, Any]) -> np.ndarray | None:
    from skewcheck.diagnose.measure.rerender_repair import transplant

    ref = ctx.reference
    if ref is None or ref.rgb_oriented is None or v.ndim != 3 or v.shape[-1] != 3:
        return None
    t, s = hwc3(ctx.train.tensor), hwc3(ctx.serve.tensor)
    if t is not None and s is not None and t.shape == s.shape == v.shape and tensor_round_trip(t, s) is not None:
        return t.copy()  # serve is train's own pixels through the round trip, in the same convention
    variants = _variants(ctx, ref.rgb_oriented, v.shape[:2], v, "serve")
    names = (evidence.get("train"), evidence.get("serve"))
    if not all(isinstance(n, str) and n in variants for n in names):
        return None
    return transplant(v, variants[names[0]], variants[names[1]])  # type: ignore[index]
