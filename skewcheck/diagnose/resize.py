"""resize: same shape, and what is left sits on edges: the sides resample differently.

Cause: another library or interpolation (PIL bilinear vs cv2.INTER_LINEAR vs tf.image.resize),
antialiasing on one side only (PIL always antialiases when shrinking; cv2 and tf by default do
not). Evidence: the residual's edge/flat ratio and, re-rendering the original with each library's
methods, the method each side matches best. Fix: resize the same way on both sides. The side is the
one whose method is nearest-neighbour (it aliases, whatever the model) on the first image whose
methods are named, kept for the run, else ``unknown`` until labels tell.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.reference import affine_residual_table, to_hwc3
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.rerender import candidates
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("resize",), reads=("alpha", "color-profile", "crop", "orientation"))

EDGE_RATIO = 2.5
MAX_PIXELS = 4_000_000
NAMED_IMAGES = 12  # every method is tried on the first images; later ones choose among those seen


def name_method(x, rgb, names=None) -> str:
    return name_methods([x], rgb, names)[0]


def name_methods(tensors, rgb, names=None) -> list[str]:
    """Per tensor (same size), the resize method among ``names`` (default: every candidate) whose
    rendering of ``rgb`` explains it best; every tensor against every rendering in one pass."""
    hw = tensors[0].shape[:2]
    options = candidates()
    chosen = {n: options[n] for n in names if n in options} if names else options
    renders = {name: resize(rgb, hw) for name, resize in chosen.items()}
    table = affine_residual_table(list(tensors), list(renders.values()))
    labels = list(renders)
    return [labels[min(range(len(labels)), key=lambda j: row[j])] for row in table]


def detect(ctx: PairContext) -> list[Observation]:
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.rgb is None:
        return []
    if ctx.found_kinds & {"alpha", "color-profile", "crop", "orientation"}:
        return []
    rgb = _resized_file(ctx)
    if rgb is None:
        return []  # nothing was resized: decoder differences are another detector's
    methods = _methods(ctx, rgb)
    if methods is not None and methods["train"] == methods["serve"]:
        return []  # both sides match the same method: the difference comes from elsewhere
    if stats.edge_ratio < EDGE_RATIO and methods is None:
        return []
    evidence: dict[str, object] = dict(methods) if methods else {}
    severity = Severity.MAJOR if stats.mean_abs_255 >= 2 else Severity.MINOR
    named = f" (train ≈ {methods['train']}, serve ≈ {methods['serve']})" if methods else ""
    side = _side(ctx, methods)
    other = {"train": "serve", "serve": "train"}.get(side)
    fix = "Resize the same way on both sides: the library, method and antialias setting the model was trained with" + (
        f" (train ≈ {methods['train']}, serve ≈ {methods['serve']})." if methods else "."
    )
    if other is not None and methods:
        fix = f"Resize in {'serving' if side == 'serve' else 'training'} as {other} does ({methods[other]}): nearest-neighbour aliases."
    return [
        Observation(
            "resize",
            severity,
            side,
            evidence,
            f"the difference sits on edges (edge/flat ratio {stats.edge_ratio:.1f}, mean {stats.mean_abs_255:.1f}/255): "
            f"the sides resample differently{named}.",
            fix,
            min(1.0, stats.mean_abs_255 / 255),
            measures={"mean_abs_255": round(stats.mean_abs_255, 2), "edge_ratio": round(stats.edge_ratio, 2)},
            merge_on=(),
            repair=("resize",) if methods else ("residual",),
        )
    ]


def _side(ctx: PairContext, methods: dict[str, str] | None) -> str:
    """Decided on the first image whose methods are named, kept for the run (one cause, one finding)."""
    if "resize_side" not in ctx.shared and methods:
        nearest = [side for side, name in methods.items() if "nearest" in name.lower()]
        ctx.shared["resize_side"] = nearest[0] if len(nearest) == 1 else "unknown"
    return ctx.shared.get("resize_side", "unknown")


def _methods(ctx: PairContext, rgb) -> dict[str, str] | None:
    """Each side's method on this image: fitted among every candidate on the first images, then
    confirmed among the methods those images named (a few resizes, not fifteen)."""
    memo = ctx.shared.setdefault("resize_methods", [])
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if t is None or s is None:
        return None
    seen = frozen_names(ctx.shared)
    measured = ctx.facts.resize_names if ctx.facts is not None else None
    if seen is not None and measured is not None and measured[0] == seen:
        return dict(measured[1])  # named next to the tensors, among the same methods
    methods = _name_sides(t, s, rgb, seen)
    if seen is None:
        memo.append(methods)
    return methods


def frozen_names(shared: dict) -> tuple[str, ...] | None:
    """The methods every later image is named among, once the first images have named theirs."""
    memo = shared.get("resize_methods", [])
    return tuple(sorted({name for m in memo for name in m.values()})) if len(memo) >= NAMED_IMAGES else None


def _resized_file(ctx: PairContext):
    """The file's pixels, when the pair differs significantly and its tensors are a resize of them."""
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.rgb is None:
        return None
    rgb = ref.rgb_oriented
    if rgb is None or rgb.shape[:2] == stats.shape[:2] or rgb.shape[0] * rgb.shape[1] > MAX_PIXELS:
        return None
    return rgb


def names_for_facts(ctx: PairContext, seen: tuple[str, ...]) -> dict[str, str] | None:
    """Each side's method among ``seen``, measured with the pair's facts where :func:`detect` would
    ask for it (whatever the other detectors find: that is known only to the audit)."""
    rgb = _resized_file(ctx)
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if rgb is None or t is None or s is None:
        return None
    return _name_sides(t, s, rgb, seen)


def _name_sides(t, s, rgb, names) -> dict[str, str]:
    if t.shape != s.shape:
        return {"train": name_method(t, rgb, names), "serve": name_method(s, rgb, names)}
    named = name_methods([t, s], rgb, names)  # both sides against each rendering in one pass
    return {"train": named[0], "serve": named[1]}
