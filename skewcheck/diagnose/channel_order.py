"""channel-order: a permutation of the channels explains serve from train (RGB vs BGR).

Cause: OpenCV decodes BGR while training used PIL or tf.image (RGB), or a caffe-style model
expects BGR. Evidence: the permutation (serve channel c = train channel p[c]). Fix: convert once,
e.g. ``cv2.cvtColor(img, cv2.COLOR_BGR2RGB)``.
"""

from __future__ import annotations

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.reference import RGB_BGR, affine_residual, to_hwc3
from skewcheck.diagnose.rerender import RESIZERS
from skewcheck.findings import Observation, Severity

CLEAR = 0.7  # one channel order must leave at most this share of the other's residual
SWAP_CRITICAL_255 = 10.0  # a swap moving pixels by this much on average (0-255 scale) is critical
MAX_PIXELS = 4_000_000


def detect(ctx: PairContext) -> list[Observation]:
    fit = ctx.value_fit
    if fit is None or fit.model == "presets":
        return []
    if fit.permutation is not None and fit.model != "unexplained":
        return [_observation(ctx, list(fit.permutation))]
    if fit.model in ("unexplained", "partial"):  # something else differs too: ask the original file
        orders = {side: _order_against_file(ctx, side) for side in ("train", "serve")}
        if None not in orders.values() and orders["train"] != orders["serve"]:
            return [_observation(ctx, [2, 1, 0])]
    return []


def _order_against_file(ctx: PairContext, side: str) -> tuple[int, ...] | None:
    """RGB or BGR: which order of the file's own pixels explains this side's tensor clearly."""
    ref = ctx.reference
    outcome = ctx.train if side == "train" else ctx.serve
    x = to_hwc3(outcome.tensor) if outcome.tensor is not None else None
    if ref is None or ref.rgb_oriented is None or x is None or ref.rgb_oriented.size > 3 * MAX_PIXELS:
        return None
    rgb = ref.rgb_oriented
    candidate = rgb.astype(np.float64) if rgb.shape[:2] == x.shape[:2] else RESIZERS["pil.bilinear"](rgb, x.shape[:2])
    as_rgb, as_bgr = (affine_residual(x, candidate, orders=(order,)) for order in RGB_BGR)
    if as_rgb <= CLEAR * as_bgr:
        return RGB_BGR[0]
    if as_bgr <= CLEAR * as_rgb:
        return RGB_BGR[1]
    return None


def _observation(ctx: PairContext, perm: list[int]) -> Observation:
    """Severity from what the swap does to this image: colourful images change a lot."""
    t = to_hwc3(ctx.train.tensor)
    span = float(np.ptp(t)) or 1.0 if t is not None else 1.0
    swap_255 = float(np.mean(np.abs(t - t[..., perm[:3]]))) / span * 255 if t is not None else 0.0
    swap = "RGB vs BGR" if perm[:3] == [2, 1, 0] else "permuted channels"
    return Observation(
        "channel-order", Severity.CRITICAL if swap_255 >= SWAP_CRITICAL_255 else Severity.MAJOR, "serve",
        {"permutation": perm},
        f"serve channels are train channels in order {tuple(perm)} ({swap}).",
        "Convert the channel order once in serving, e.g. cv2.cvtColor(img, cv2.COLOR_BGR2RGB) "
        "after cv2.imdecode, or img[..., ::-1].",
        swap_255 / 255, measures={"swap_mean_abs_255": round(swap_255, 2)}, merge_on=("permutation",),
        repair=("permutation",),
    )  # fmt: skip
