"""padding: the sides place the image differently in the tensor, or pad it with another value.

Cause: one side keeps the aspect ratio and pads (on the right, at the bottom, or centred: a
letterbox), the other stretches the image to the full size or pads another edge (a text
recogniser's right-padded crop served stretched); or both pad the same region with another value:
0 written into an already normalized tensor (padding after normalization: black becomes mid-gray
in pixel terms) against pixels padded black and then normalized, YOLO's gray 114 against 0.
Evidence: per side, the framing its tensor shows (``stretch``, ``keep-ratio, pad bottom/right
(top-left anchored)``, its mirror, ``keep-ratio, centred pad``: one name per policy, whatever
each image's aspect ratio, so a policy is one finding), fitted by re-rendering the original into
each framing, the pad value in pixel units (0-255, through the value map fitted on that side's
content) and whether the pad was written before or after normalization; the same placement with
another content size is one ``content`` rounding finding, not one per size.
Fix: one framing, one pad value and one order (pad, then normalize; or the reverse) on both
sides. The side is ``unknown`` (either framing can be the trained one) until labels tell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.fit import _fit_whole, fit_line
from skewcheck.diagnose.measure.pad_box import pad_box
from skewcheck.diagnose.measure.reference import resampled_source
from skewcheck.diagnose.measure.rerender import USUAL_RESIZERS
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.run_state import FitFirst, per_side
from skewcheck.findings import Observation, Severity

FITTED_IMAGES = 6  # images on which every resizer is tried; later ones use each side's usual one


@dataclass
class PaddingState:
    resizer: dict[str, FitFirst] = field(default_factory=lambda: per_side("padding resizer", FITTED_IMAGES))


CLEAR = 0.6  # a side's own framing must leave at most this share of what the other side's leaves
GOOD = 0.25  # and explain its own tensor up to this relative RMS (a value map and a resampler apart)
MAX_PIXELS = 4_000_000
GRAY = (0.299, 0.587, 0.114)

Box = tuple[int, int, int, int]  # (top, bottom, left, right) of the content in the tensor


def framing_name(box: Box | None, hw: tuple[int, int]) -> str:
    if box is None or box == (0, hw[0], 0, hw[1]):
        return "stretch"
    top, bottom, left, right = box
    h, w = hw
    edges = [
        name for name, size in (("top", top), ("bottom", h - bottom), ("left", left), ("right", w - right)) if size
    ]
    if (top and abs(top - (h - bottom)) <= 1) or (left and abs(left - (w - right)) <= 1):
        return "keep-ratio, centred pad"
    # one policy, whatever the image's aspect: a wide image pads the bottom, a tall one the right
    if set(edges) <= {"bottom", "right"}:
        return BOTTOM_RIGHT
    if set(edges) <= {"top", "left"}:
        return TOP_LEFT
    return "keep-ratio, pad " + " and ".join(edges)


BOTTOM_RIGHT = "keep-ratio, pad bottom/right (top-left anchored)"
TOP_LEFT = "keep-ratio, pad top/left (bottom-right anchored)"


def _tensor(x: np.ndarray | None) -> np.ndarray | None:
    """H×W×C float64 (C = 1 or 3): CHW moved, alpha dropped; None when not an image tensor."""
    view = _view(x)
    return view.astype(np.float64) if view is not None else None


def _view(x: np.ndarray | None) -> np.ndarray | None:
    """What :func:`_tensor` gives, as a view in the tensor's own dtype where float64 holds each of
    its values exactly (so comparisons of values, the padded edges, come out the same)."""
    if x is None or not np.issubdtype(np.asarray(x).dtype, np.number):
        return None
    t = np.asarray(x)
    if not ((t.dtype.kind == "f" and t.dtype.itemsize <= 8) or (t.dtype.kind in "iu" and t.dtype.itemsize <= 4)):
        t = t.astype(np.float64)
    if t.ndim == 2:
        t = t[..., None]
    if t.ndim != 3:
        return None
    if t.shape[0] in (1, 3, 4) and t.shape[-1] not in (1, 3, 4):
        t = np.moveaxis(t, 0, -1)
    if t.shape[-1] == 4:
        t = t[..., :3]
    return t if t.shape[-1] in (1, 3) and min(t.shape[:2]) >= 4 else None


def _resize(rgb: np.ndarray, name: str, hw: tuple[int, int]) -> np.ndarray:
    from skewcheck.diagnose.measure.rerender import RESIZERS

    return RESIZERS[name](rgb, (max(1, hw[0]), max(1, hw[1])))


def _content_fit(x: np.ndarray, render: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(relative RMS, slope, offset per channel) of ``x ≈ a·render + b`` (gray: one channel of the render)."""
    channels = x.shape[-1]
    slopes, offsets, err = np.ones(channels), np.zeros(channels), 0.0
    for c in range(channels):
        src = render[..., c].ravel() if render.shape[-1] == channels else render.ravel()
        a, b = fit_line(src, x[..., c].ravel())
        slopes[c], offsets[c] = a, b
        err += float(np.mean((x[..., c].ravel() - (a * src + b)) ** 2))
    return float(np.sqrt(err / channels)) / (float(x.std()) or 1.0), slopes, offsets


def _source(rgb: np.ndarray, channels: int) -> np.ndarray:
    return rgb if channels == 3 else (rgb.astype(np.float64) @ np.array(GRAY))[..., None]


def canvas(
    rgb: np.ndarray, box: Box | None, hw: tuple[int, int], pad: np.ndarray, resizer: str, channels: int
) -> np.ndarray:
    """The file rendered into ``box`` of an H×W canvas filled with ``pad`` (pixel units, per channel)."""
    h, w = hw
    box = box or (0, h, 0, w)
    top, bottom, left, right = box
    content = _resize(rgb, resizer, (bottom - top, right - left))
    content = content if channels == 3 else (content @ np.array(GRAY))[..., None]
    out = np.empty((h, w, channels), np.float64)
    out[...] = np.resize(pad, channels)
    out[top:bottom, left:right] = content.reshape(bottom - top, right - left, channels)
    return out


def _side_view(x: np.ndarray, rgb: np.ndarray, resizers: tuple[str, ...]) -> dict[str, Any] | None:
    """This side's framing: its padded box (or none), how well the file rendered into it explains
    the tensor's content, the value map that does it and the pad value in pixel units."""
    hw = x.shape[:2]
    found = pad_box(x)
    box: Box | None = found[0] if found is not None else None
    top, bottom, left, right = box or (0, hw[0], 0, hw[1])
    content = x[top:bottom, left:right]
    best: tuple[float, str, np.ndarray, np.ndarray] | None = None
    for name in resizers:
        render = _resize(rgb, name, (bottom - top, right - left))
        score, a, b = _content_fit(content, render if x.shape[-1] == 3 else _source(render.astype(np.float64), 1))
        if best is None or score < best[0]:
            best = (score, name, a, b)
    assert best is not None
    score, resizer, a, b = best
    pad_raw = None
    order = None
    if found is not None:
        value = np.resize(found[1], x.shape[-1])
        safe = np.where(np.abs(a) < 1e-12, 1.0, a)
        pad_raw = (value - b) / safe
        if np.all(np.abs(b) <= 1e-6 * np.maximum(np.abs(a) * 255, 1e-12)):
            order = "either"  # no offset in the value map: 0 before or after is the same
        elif np.all(value == 0):
            order = "after normalization"  # a 0 written into the normalized tensor
        else:
            order = "before normalization"
    return {"box": box, "score": score, "resizer": resizer, "slope": a, "offset": b, "pad": pad_raw, "order": order}


def _score_as(x: np.ndarray, rgb: np.ndarray, box: Box | None, pad: np.ndarray | None, resizer: str) -> float:
    """How well the file framed as ``box`` (padded with ``pad``) explains all of ``x``."""
    if pad is None:
        pad = np.zeros(3)
    render = canvas(rgb, box, x.shape[:2], pad, resizer, x.shape[-1])
    return _content_fit(x, render)[0]


def _resizers(ctx: PairContext) -> dict[str, tuple[str, ...]]:
    fitting = ctx.run.of(PaddingState).resizer
    return {side: f.candidates(USUAL_RESIZERS) for side, f in fitting.items()}


def views(ctx: PairContext) -> dict[str, dict[str, Any]] | None:
    """Both sides' framings on this image (memoised on the context), or None when not applicable."""
    return ctx.memo("padding.views", lambda: _views(ctx))


def _views(ctx: PairContext) -> dict[str, dict[str, Any]] | None:
    ref = ctx.reference
    if not ctx.both_ok or ref is None:
        return None
    t, s = _tensor(ctx.train.tensor), _tensor(ctx.serve.tensor)
    if t is None or s is None or t.shape != s.shape:
        return None
    rgb = ref.source(resampled_source(ref, ctx.train.tensor))
    if rgb is None or rgb.ndim != 3 or rgb.shape[0] * rgb.shape[1] > MAX_PIXELS:
        return None
    resizers = _resizers(ctx)
    train, serve = _side_view(t, rgb, resizers["train"]), _side_view(s, rgb, resizers["serve"])
    if train is None or serve is None:
        return None
    return {"train": train, "serve": serve, "tensors": {"train": t, "serve": s, "rgb": rgb}}


def _any_padded(ctx: PairContext) -> bool:
    """Whether either tensor has a padded edge: the views' boxes, found before rendering anything."""
    if not ctx.both_ok:
        return False
    return any(x is not None and pad_box(x) is not None for x in (_view(ctx.train.tensor), _view(ctx.serve.tensor)))


def _pixels(pad: np.ndarray | None) -> float | list[float] | None:
    if pad is None:
        return None
    values = [round(float(v), 1) + 0.0 for v in pad]
    return values[0] if max(values) - min(values) <= 0.5 else values


def _pad_text(view: dict[str, Any]) -> str:
    if view["pad"] is None:
        return ""
    pad = _pixels(view["pad"])
    order = {
        "either": "",
        "after normalization": ", written after normalizing",
        "before normalization": ", padded before normalizing",
    }[view["order"]]
    return f" (pad {pad} in pixel values{order})"


def detect(ctx: PairContext) -> list[Observation]:
    if "orientation" in ctx.found_kinds or not _any_padded(ctx):
        return []  # neither side pads: framing without padding is the crop detector's (and no re-render is needed to say so)
    found = views(ctx)
    if found is None:
        return []
    t_view, s_view = found["train"], found["serve"]
    tensors = found["tensors"]
    t, s, rgb = tensors["train"], tensors["serve"], tensors["rgb"]
    if t_view["box"] is None and s_view["box"] is None:
        return []  # neither side pads: framing without padding is the crop detector's
    hw = t.shape[:2]
    names = {"train": framing_name(t_view["box"], hw), "serve": framing_name(s_view["box"], hw)}
    if t_view["box"] != s_view["box"]:
        if not _framed_apart(t, s, rgb, t_view, s_view):
            return []
        cause = "framing"
        content = None
        if names["train"] == names["serve"]:  # same placement, another content size (rounding)
            content = {
                side: "{}×{}".format(view["box"][3] - view["box"][2], view["box"][1] - view["box"][0])
                for side, view in (("train", t_view), ("serve", s_view))
            }
    else:
        if not _pads_apart(t, s, t_view, s_view):
            return []
        cause = "pad value"
    fitting = ctx.run.of(PaddingState).resizer
    for side, view in (("train", t_view), ("serve", s_view)):
        fitting[side].chose(view["resizer"])
    evidence: dict[str, Any] = {"cause": cause, "train": names["train"], "serve": names["serve"]}
    if cause == "framing" and content is not None:
        evidence["content"] = "same placement, another content size (rounding)"
    for side, view in (("train", t_view), ("serve", s_view)):
        if view["pad"] is not None:
            evidence[f"{side}_pad"] = _pixels(view["pad"])
            evidence[f"{side}_pad_order"] = view["order"]
    stats = ctx.residual_stats
    mean_255 = stats.mean_abs_255 if stats is not None else 0.0
    severity = Severity.MAJOR if mean_255 >= 2 or cause == "framing" else Severity.MINOR
    if cause == "framing":
        text = (
            f"the sides place the {rgb.shape[1]}×{rgb.shape[0]} image differently in the {hw[1]}×{hw[0]} tensor: "
            f"train {names['train']}{_pad_text(t_view)}, serve {names['serve']}{_pad_text(s_view)}."
        )
        fix = (
            f"Frame the image the same way on both sides, as the model was trained (train: {names['train']}, "
            f"serve: {names['serve']}): keep the aspect ratio and pad the same edge with the same value, or stretch on both."
        )
    else:
        text = (
            f"both sides frame the image as {names['train']}, but pad with other values: train{_pad_text(t_view)}, "
            f"serve{_pad_text(s_view)}."
        )
        fix = (
            "Pad with the same value at the same point on both sides, as the model was trained: normalize and then "
            "pad with the normalized value of the trained pad, or pad the pixels and normalize the whole tensor."
        )
    return [
        Observation(
            "padding",
            severity,
            "unknown",
            evidence,
            text,
            fix,
            min(1.0, mean_255 / 255) if mean_255 else 1.0,
            measures={"mean_abs_255": round(mean_255, 2)},
            merge_on=("cause", "train", "serve", "content"),
            repair=("padding",),
        )
    ]


def _framed_apart(t, s, rgb, t_view, s_view) -> bool:
    """Each side is explained by its own framing, clearly better than by the other side's."""
    for x, own, other in ((t, t_view, s_view), (s, s_view, t_view)):
        mine = _score_as(x, rgb, own["box"], own["pad"], own["resizer"])
        if mine > GOOD:
            return False
        theirs = _score_as(x, rgb, other["box"], own["pad"] if own["pad"] is not None else other["pad"], own["resizer"])
        if mine > CLEAR * theirs:
            return False
    return True


def _pads_apart(t, s, t_view, s_view) -> bool:
    """Same content box, the content agrees through a value map, the padding does not follow it."""
    top, bottom, left, right = t_view["box"]
    fit = _fit_whole(t[top:bottom, left:right], s[top:bottom, left:right])
    if fit.model in ("unexplained", "partial"):
        return False
    t_pad, s_pad = pad_box(t), pad_box(s)
    if t_pad is None or s_pad is None or np.array_equal(t_pad[1], s_pad[1]):
        return False  # the same constant in both tensors: a value-map difference of the content only
    predicted_pad = fit.apply(np.resize(t_pad[1], (1, 1, t.shape[-1]))).reshape(-1)
    actual_pad = np.resize(s_pad[1], t.shape[-1])
    spread = float(np.ptp(s[top:bottom, left:right])) or 1.0
    return bool(np.max(np.abs(predicted_pad - actual_pad)) > 0.02 * spread)


def repaired(ctx: PairContext, v: np.ndarray, wanted: set[str]) -> np.ndarray | None:
    """Repair component ``padding``: serve (H×W×C, channels last, train's layout) re-framed as train.

    Another framing: the file rendered both ways is transplanted into serve's value convention.
    Another pad value: serve's padding replaced by train's, under serve's value map (or as train
    has it, once the ``values`` component has undone that map).
    """
    values_undone = "values" in wanted
    obs = next((o for o in ctx.found if o.kind == "padding"), None)
    found = views(ctx)
    if obs is None or found is None:
        return None
    t_view, s_view = found["train"], found["serve"]
    t, rgb = found["tensors"]["train"], found["tensors"]["rgb"]
    squeeze = v.ndim == 2
    x = v[..., None] if squeeze else v
    if x.shape[:2] != t.shape[:2]:
        return None
    out = x.astype(np.float64).copy()
    if obs.evidence.get("cause") == "pad value":
        top, bottom, left, right = t_view["box"]
        mask = np.ones(t.shape[:2], bool)
        mask[top:bottom, left:right] = False
        if values_undone:
            target = t
        else:
            fit = _fit_whole(t[top:bottom, left:right], found["tensors"]["serve"][top:bottom, left:right])
            target = fit.apply(t)
        out[mask] = target[mask]
    else:
        hw = t.shape[:2]
        channels = x.shape[-1]
        t_pad = t_view["pad"] if t_view["pad"] is not None else np.zeros(channels)
        s_pad = s_view["pad"] if s_view["pad"] is not None else np.zeros(channels)
        render_t = canvas(rgb, t_view["box"], hw, t_pad, s_view["resizer"], channels)
        render_s = canvas(rgb, s_view["box"], hw, s_pad, s_view["resizer"], channels)
        for c in range(channels):
            a, _ = fit_line(render_s[..., c].ravel(), x[..., c].ravel())
            out[..., c] += a * (render_t[..., c] - render_s[..., c])
    return out[..., 0] if squeeze else out


# runs after the resampling and framing detectors and replaces them on an image it explains: what
# another framing leaves sits on edges and reads as another resize, or as another crop
SPEC = DetectorSpec(
    kinds=("padding",),
    reads=("orientation",),
    supersedes=("resize", "crop", "jpeg-decoder"),
    state=PaddingState,
    repairs={"padding": repaired},
)
