"""resize: same shape, and what is left sits on edges: the sides resample differently.

Cause: another library or interpolation (PIL bilinear vs cv2.INTER_LINEAR vs tf.image.resize),
antialiasing on one side only (PIL always antialiases when shrinking; cv2 and tf by default do
not). Evidence: the residual's edge/flat ratio and, re-rendering the original with each library's
methods, the method each side matches best. Fix: resize with the training side's method.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.reference import affine_residual, to_hwc3
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.rerender import candidates
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("resize",), reads=("alpha", "color-profile", "crop", "orientation"))

EDGE_RATIO = 2.5
MAX_PIXELS = 4_000_000
NAMED_IMAGES = 12  # re-rendering costs ~15 resizes per side: name methods on the first few images


def name_method(x, rgb) -> str:  # type: ignore[no-untyped-def]
    hw = x.shape[:2]
    scores = {name: affine_residual(x, resize(rgb, hw)) for name, resize in candidates().items()}
    return min(scores, key=scores.get)


def detect(ctx: PairContext) -> list[Observation]:
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.rgb is None:
        return []
    if ctx.found_kinds & {"alpha", "color-profile", "crop", "orientation"}:
        return []
    rgb = ref.rgb_oriented
    hw = stats.residual.shape[:2]
    if rgb.shape[:2] == hw or rgb.shape[0] * rgb.shape[1] > MAX_PIXELS:
        return []  # nothing was resized: decoder differences are another detector's
    methods = _methods(ctx, rgb)
    if methods is not None and methods["train"] == methods["serve"]:
        return []  # both sides match the same method: the difference comes from elsewhere
    if stats.edge_ratio < EDGE_RATIO and methods is None:
        return []
    evidence: dict[str, object] = dict(methods) if methods else {}
    severity = Severity.MAJOR if stats.mean_abs_255 >= 2 else Severity.MINOR
    named = f" (train ≈ {methods['train']}, serve ≈ {methods['serve']})" if methods else ""
    return [
        Observation(
            "resize", severity, "serve", evidence,
            f"the difference sits on edges (edge/flat ratio {stats.edge_ratio:.1f}, mean {stats.mean_abs_255:.1f}/255): "
            f"the sides resample differently{named}.",
            "Resize with the training side's library, method and antialias setting in serving"
            + (f" ({methods['train']})." if methods else "."),
            min(1.0, stats.mean_abs_255 / 255),
            measures={"mean_abs_255": round(stats.mean_abs_255, 2), "edge_ratio": round(stats.edge_ratio, 2)},
            merge_on=(),
            repair=("resize",) if methods else ("residual",),
        )
    ]


def _methods(ctx: PairContext, rgb) -> dict[str, str] | None:  # type: ignore[no-untyped-def]
    memo = ctx.shared.setdefault("resize_methods", [])
    if len(memo) >= NAMED_IMAGES:
        return memo[-1]
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if t is None or s is None:
        return None
    methods = {"train": name_method(t, rgb), "serve": name_method(s, rgb)}
    memo.append(methods)
    return methods
