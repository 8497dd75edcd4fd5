"""channel-order: a permutation of the channels explains serve from train (RGB vs BGR).

Cause: OpenCV decodes BGR while training used PIL or tf.image (RGB), or a caffe-style model
expects BGR. Evidence: the permutation (serve channel c = train channel p[c]). Fix: convert once,
e.g. ``cv2.cvtColor(img, cv2.COLOR_BGR2RGB)``. The side is the one whose tensor holds the
file's pixels in BGR order (judged on opaque pixels only, so a dropped alpha channel is never
read as a swap, and on the content of an aspect-kept padded tensor), decided on the first image
that tells and kept for the run; ``unknown`` until an image tells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.pad_box import pad_box
from skewcheck.diagnose.measure.reference import RGB_BGR, affine_residuals, to_hwc3
from skewcheck.diagnose.measure.rerender import RESIZERS
from skewcheck.diagnose.measure.rerender_repair import transparent_mask
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.replay import Candidate, ReplayImage
from skewcheck.findings import Observation, Severity


@dataclass
class ChannelOrderState:
    side: str | None = None  # the side holding BGR, from the first image that tells


CLEAR = 0.7  # one channel order must leave at most this share of the other's residual
SWAP_CRITICAL_255 = 10.0  # a swap moving pixels by this much on average (0-255 scale) is critical
MAX_PIXELS = 4_000_000


def detect(ctx: PairContext) -> list[Observation]:
    fit = ctx.value_fit
    if fit is None or fit.model == "presets":
        return []
    if fit.permutation is not None and fit.model != "unexplained" and not _transparent(ctx):
        return [_observation(ctx, list(fit.permutation), _side(ctx))]
    if asks_file(ctx):  # something else differs too: ask the file
        orders = _file_orders(ctx)
        if None not in orders.values() and orders["train"] != orders["serve"]:
            return [_observation(ctx, [2, 1, 0], _side(ctx, orders))]
    return []


def _transparent(ctx: PairContext) -> bool:
    ref = ctx.reference
    return ref is not None and ref.alpha is not None and bool((ref.alpha < 255).any())


def asks_file(ctx: PairContext) -> bool:
    """Whether the order must be read against the file: the value fit leaves something else."""
    fit = ctx.value_fit
    if fit is None or fit.model == "presets":
        return False
    return fit.model in ("unexplained", "partial") or _transparent(ctx)


def file_orders(ctx: PairContext) -> dict[str, tuple[int, ...] | None]:
    """Per side: RGB or BGR against the file's pixels (None where unclear); a pure measurement,
    made next to the tensors when it can be (skewcheck/diagnose/facts.py)."""
    return {side: _order_against_file(ctx, side) for side in ("train", "serve")}


def precompute(ctx: PairContext, hint: None) -> dict[str, tuple[int, ...] | None] | None:
    return file_orders(ctx) if asks_file(ctx) else None


def _file_orders(ctx: PairContext) -> dict[str, tuple[int, ...] | None]:
    return ctx.precomputed("channel_order") or file_orders(ctx)


def _side(ctx: PairContext, orders: dict[str, tuple[int, ...] | None] | None = None) -> str:
    """The side holding BGR, from the file's pixels; the first image that tells decides the run."""
    state = ctx.run.of(ChannelOrderState)
    if state.side is not None:
        return state.side
    orders = orders or _file_orders(ctx)
    bgr = [side for side, order in orders.items() if order == RGB_BGR[1]]
    rgb = [side for side, order in orders.items() if order == RGB_BGR[0]]
    if len(bgr) == 1 and len(rgb) == 1:
        state.side = bgr[0]
        return bgr[0]
    return "unknown"


def _order_against_file(ctx: PairContext, side: str) -> tuple[int, ...] | None:
    """RGB or BGR: which order of the file's own pixels explains this side's tensor clearly
    (on opaque pixels only when the file has transparency)."""
    ref = ctx.reference
    outcome = ctx.train if side == "train" else ctx.serve
    x = to_hwc3(outcome.tensor) if outcome.tensor is not None else None
    if ref is None or ref.rgb_oriented is None or x is None or ref.rgb_oriented.size > 3 * MAX_PIXELS:
        return None
    order = _order_of(x, ref)
    padded = pad_box(x) if order is None and ref.alpha is None else None
    if padded is not None:  # an aspect-kept, padded tensor: its content is the file
        top, bottom, left, right = padded[0]
        order = _order_of(x[top:bottom, left:right], ref)
    return order


def _order_of(x: np.ndarray, ref) -> tuple[int, ...] | None:
    rgb = ref.rgb_oriented
    candidate = rgb.astype(np.float64) if rgb.shape[:2] == x.shape[:2] else RESIZERS["pil.bilinear"](rgb, x.shape[:2])
    if ref.alpha is not None and ref.exif_orientation == 1:
        mask = transparent_mask(ref, x.shape[:2])
        if mask is not None:
            opaque = ~mask[..., 0]
            if opaque.sum() < 16:
                return None
            x, candidate = x[opaque][:, None, :], candidate[opaque][:, None, :]
    as_rgb, as_bgr = affine_residuals(x, candidate, RGB_BGR)
    if as_rgb <= CLEAR * as_bgr:
        return RGB_BGR[0]
    if as_bgr <= CLEAR * as_rgb:
        return RGB_BGR[1]
    return None


def _observation(ctx: PairContext, perm: list[int], side: str) -> Observation:
    """Severity from what the swap does to this image: colourful images change a lot."""
    t = to_hwc3(ctx.train.tensor)
    span = float(np.ptp(t)) or 1.0 if t is not None else 1.0
    swap_255 = float(np.mean(np.abs(t - t[..., perm[:3]]))) / span * 255 if t is not None else 0.0
    swap = "RGB vs BGR" if perm[:3] == [2, 1, 0] else "permuted channels"
    where = {"serve": "in serving", "train": "in training"}.get(side, "on the side that decodes with OpenCV")
    holds = (
        f"{side} holds the file's pixels in BGR order" if side in ("train", "serve") else "which side is BGR is unknown"
    )
    return Observation(
        "channel-order",
        Severity.CRITICAL if swap_255 >= SWAP_CRITICAL_255 else Severity.MAJOR,
        side,
        {"permutation": perm},
        f"serve channels are train channels in order {tuple(perm)} ({swap}; {holds}).",
        f"Convert the channel order once {where}, e.g. cv2.cvtColor(img, cv2.COLOR_BGR2RGB) "
        "after cv2.imdecode, or img[..., ::-1].",
        swap_255 / 255,
        measures={"swap_mean_abs_255": round(swap_255, 2)},
        merge_on=("permutation",),
        repair=("permutation",),
    )


def replay() -> list[Candidate]:
    """The black-box replay's candidate (skewcheck/diagnose/replay.py): train's channels swapped."""
    return [
        Candidate(
            "RGB→BGR",
            "channel-order",
            {"permutation": [2, 1, 0]},
            "The serving stack feeds channels in BGR order (OpenCV's): convert to RGB (cv2.cvtColor(..., COLOR_BGR2RGB)) before the model, as training does.",
            _swapped,
        )
    ]


def _swapped(t: np.ndarray, img: ReplayImage) -> np.ndarray | None:
    return t[..., ::-1] if t.ndim == 3 and t.shape[-1] == 3 else None


SPEC = DetectorSpec(kinds=("channel-order",), state=ChannelOrderState, precompute=precompute, replay=replay)
