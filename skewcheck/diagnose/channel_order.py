"""channel-order: a permutation of the channels explains serve from train (RGB vs BGR).

Cause: OpenCV decodes BGR while training used PIL or tf.image (RGB), or a caffe-style model
expects BGR. Evidence: the permutation (serve channel c = train channel p[c]). Fix: convert once,
e.g. ``cv2.cvtColor(img, cv2.COLOR_BGR2RGB)``.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.findings import Observation, Severity


def detect(ctx: PairContext) -> list[Observation]:
    fit = ctx.value_fit
    if fit is None or fit.permutation is None or fit.model in ("unexplained", "presets"):
        return []
    perm = list(fit.permutation)
    swap = "RGB vs BGR" if perm[:3] == [2, 1, 0] else "permuted channels"
    return [
        Observation(
            "channel-order", Severity.MAJOR, "serve", {"permutation": perm},
            f"serve channels are train channels in order {tuple(perm)} ({swap}).",
            "Convert the channel order once in serving, e.g. cv2.cvtColor(img, cv2.COLOR_BGR2RGB) "
            "after cv2.imdecode, or img[..., ::-1].",
            fit.baseline,
        )
    ]
