"""resize: same shape, and what is left sits on edges: the sides resample differently.

Cause: another library or interpolation (PIL bilinear vs cv2.INTER_LINEAR vs tf.image.resize),
antialiasing on one side only (PIL always antialiases when shrinking; cv2 and tf by default do
not). Evidence: the residual's edge/flat ratio and, re-rendering the original with each library's
methods, the method each side matches best (from the pixels train resampled: the file flattened
over white or black, or in sRGB, when it has alpha or a profile, ``resampled``). Fix: resize the same way on both sides. The side is the
one whose method is nearest-neighbour (it aliases, whatever the model) on the first image whose
methods are named, kept for the run, else ``unknown`` until labels tell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.reference import affine_residual, affine_residual_table, resampled_source, to_hwc3
from skewcheck.diagnose.measure.rerender import candidates
from skewcheck.diagnose.measure.rerender_repair import Renders, rerendered, source_rgb
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.replay import Candidate, moved
from skewcheck.diagnose.run_state import FitFirst, RunState
from skewcheck.findings import Observation, Severity

EDGE_RATIO = 2.5
MAX_PIXELS = 4_000_000
NAMED_IMAGES = 12  # every method is tried on the first images; later ones choose among those seen
MATCHED = 0.3  # a method names a side when its rendering leaves at most this share of the sides' difference
ODD_ONE_OUT = 3.0  # …and a side is unmatched only when its closest rendering is this much farther than the other's


def _named_among(seen: list) -> tuple[str, ...]:
    options = candidates()
    named = {v for m in seen for v in m.values()}  # a closest method counts as seen
    return tuple(sorted(n for n in named if n in options))


@dataclass
class ResizeState:
    side: str | None = None  # decided on the first image whose methods are named
    # each image's methods until NAMED_IMAGES named theirs; later images are named among those seen
    methods: FitFirst = field(default_factory=lambda: FitFirst("resize methods", NAMED_IMAGES, keep=_named_among))


def name_method(x, rgb, names=None) -> str:
    return name_methods([x], rgb, names)[0]


def name_methods(tensors, rgb, names=None) -> list[str]:
    """Per tensor (same size), the resize method among ``names`` (default: every candidate) whose
    rendering of ``rgb`` explains it best; every tensor against every rendering in one pass."""
    return [name for name, _ in closest_methods(tensors, rgb, names)]


def closest_methods(tensors, rgb, names=None) -> list[tuple[str, float]]:
    """:func:`name_methods` with each best rendering's residual (relative RMS after the affine fit)."""
    hw = tensors[0].shape[:2]
    options = candidates()
    chosen = {n: options[n] for n in names if n in options} if names else {}
    chosen = chosen or options
    renders = {name: resize(rgb, hw) for name, resize in chosen.items()}
    table = affine_residual_table(list(tensors), list(renders.values()))
    labels = list(renders)
    best = [min(range(len(labels)), key=lambda j: row[j]) for row in table]
    return [(labels[j], float(row[j])) for j, row in zip(best, table, strict=True)]


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
    unmatched = methods is not None and any(k.endswith("_closest") for k in methods)
    closest = {s: methods.get(f"{s}_closest", methods[s]) for s in ("train", "serve")} if methods else {}
    if methods is not None and closest["train"] == closest["serve"]:
        return []  # both sides are (nearest to) the same method: the difference comes from elsewhere
    if unmatched and stats.edge_ratio < EDGE_RATIO:
        return []  # no method reproduces a side, and the difference is not on edges: not resampling
    if stats.edge_ratio < EDGE_RATIO and methods is None:
        return []
    evidence: dict[str, object] = {k: v for k, v in methods.items() if not k.endswith("_left")} if methods else {}
    source = _source(ctx)
    if source is not None and methods:
        evidence["resampled"] = source  # the re-render repair starts from the same pixels
    left = {f"{k[:-5]}_closest_leaves": float(v) for k, v in (methods or {}).items() if k.endswith("_left")}
    severity = Severity.MAJOR if stats.mean_abs_255 >= 2 else Severity.MINOR
    named = f" (train ≈ {_said(methods, 'train')}, serve ≈ {_said(methods, 'serve')})" if methods else ""
    side = _side(ctx, methods)
    other = {"train": "serve", "serve": "train"}.get(side)
    fix = "Resize the same way on both sides: the library, method and antialias setting the model was trained with" + (
        f" (train ≈ {methods['train']}, serve ≈ {methods['serve']})." if methods else "."
    )
    if unmatched and methods:
        odd = [s for s in ("train", "serve") if f"{s}_closest" in methods]
        fix = (
            f"Resize the same way on both sides. {' and '.join(odd).capitalize()} resample(s) in a way none of the "
            "methods tried reproduces (a warp, a blur, a library outside the catalogue): find that call and use the "
            "other side's method"
            + (f" ({methods[other]})." if other in ("train", "serve") and other not in odd else ".")
        )
    elif other is not None and methods:
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
            measures={"mean_abs_255": round(stats.mean_abs_255, 2), "edge_ratio": round(stats.edge_ratio, 2), **left},
            merge_on=(),
            repair=("resize",) if methods and not unmatched else ("residual",),
        )
    ]


def _said(methods: dict[str, str], side: str) -> str:
    closest = methods.get(f"{side}_closest")
    if not closest:
        return methods[side]
    return f"{methods[side]}, closest {closest}, which leaves {float(methods[side + '_left']):.0%} of the difference"


def _side(ctx: PairContext, methods: dict[str, str] | None) -> str:
    """Decided on the first image whose methods are named, kept for the run (one cause, one finding)."""
    state = ctx.run.of(ResizeState)
    if state.side is None and methods:
        nearest = [side for side in ("train", "serve") if "nearest" in methods[side].lower()]
        state.side = nearest[0] if len(nearest) == 1 else "unknown"
    return state.side or "unknown"


def _methods(ctx: PairContext, rgb) -> dict[str, str] | None:
    """Each side's method on this image: fitted among every candidate on the first images, then
    confirmed among the methods those images named (a few resizes, not fifteen)."""
    fitting = ctx.run.of(ResizeState).methods
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if t is None or s is None:
        return None
    seen = hint(ctx.run)
    measured = ctx.precomputed("resize")
    if seen is not None and measured is not None and measured[0] == seen:
        return dict(measured[1])  # named next to the tensors, among the same methods
    methods = _name_sides(t, s, rgb, seen)
    fitting.chose(methods)
    return methods


def hint(run: RunState) -> tuple[str, ...] | None:
    """The methods every later image is named among, once the first images have named theirs."""
    fitting = run.of(ResizeState).methods
    return fitting.kept if fitting.fitted else None


def _resized_file(ctx: PairContext):
    """The file's pixels, when the pair differs significantly and its tensors are a resize of them."""
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.rgb is None:
        return None
    rgb = ref.rgb_oriented
    if rgb is None or rgb.shape[:2] == stats.shape[:2] or rgb.shape[0] * rgb.shape[1] > MAX_PIXELS:
        return None
    return ref.source(_source(ctx))


def _source(ctx: PairContext) -> str | None:
    return resampled_source(ctx.reference, ctx.train.tensor) if ctx.reference is not None else None


def precompute(ctx: PairContext, seen: tuple[str, ...] | None) -> tuple[tuple[str, ...], dict[str, str]] | None:
    """Each side's method among ``seen`` (the run's :func:`hint`), measured with the pair's facts
    where :func:`detect` would ask for it (whatever the other detectors find: that is known only to
    the audit)."""
    if seen is None:
        return None
    rgb = _resized_file(ctx)
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if rgb is None or t is None or s is None:
        return None
    return seen, _name_sides(t, s, rgb, seen)


def _name_sides(t, s, rgb, names) -> dict[str, str]:
    """Each side's method; a side that no method explains (its closest rendering leaves more than
    ``MATCHED`` of the sides' own difference) is named as such, with the closest method and how far
    it is: a resampler outside the catalogue is not given a confident wrong name."""
    if t.shape != s.shape:
        best = [*closest_methods([t], rgb, names), *closest_methods([s], rgb, names)]
        apart = None
    else:
        best = closest_methods([t, s], rgb, names)  # both sides against each rendering in one pass
        apart = affine_residual(s, t)
    out: dict[str, str] = {}
    residuals = [r for _, r in best]
    for i, (side, (name, residual)) in enumerate(zip(("train", "serve"), best, strict=True)):
        out[side] = name
        # unmatched only where the other side is explained far better: when both sides are as far
        # from every rendering (an ICC or alpha step both took, a watermark), the file is the odd one
        if apart and residual > MATCHED * apart and residual > ODD_ONE_OUT * residuals[1 - i]:
            tried = len(names) if names else len(candidates())
            out[side] = f"none of the {tried} methods tried"
            out[f"{side}_closest"] = name
            out[f"{side}_left"] = f"{residual / apart:.2f}"  # share of the difference the closest leaves
    return out


def renders(evidence: dict, ref, hw: tuple[int, int]) -> Renders | None:
    """The file rendered with each side's named method (the repair: rerender_repair.rerendered)."""
    from skewcheck.diagnose.measure.rerender import RESIZERS, TF_RESIZERS

    rgb = source_rgb(evidence, ref)
    resizers = {**RESIZERS, **TF_RESIZERS}
    train, serve = evidence.get("train"), evidence.get("serve")
    if rgb is None or not (isinstance(train, str) and isinstance(serve, str)):
        return None
    if train not in resizers or serve not in resizers:
        return None
    return resizers[train](rgb, hw), resizers[serve](rgb, hw)


def replay() -> list[Candidate]:
    """The black-box replay's candidates (skewcheck/diagnose/replay.py): the file resized by every other method."""
    return [
        Candidate(
            f"resize {name}",
            "resize",
            {"serve": name},
            f"The serving stack resizes with {name}: resize as training does.",
            moved(_resized(resizer), f"resize:{name}"),
            True,
        )
        for name, resizer in candidates().items()
        if name != "pil.bilinear"
    ]


def _resized(resizer):
    return lambda ref, hw: resizer(ref.rgb_oriented, hw) if ref.rgb_oriented is not None else None


SPEC = DetectorSpec(
    kinds=("resize",),
    reads=("alpha", "color-profile", "crop", "orientation"),
    state=ResizeState,
    precompute=precompute,
    hint=hint,
    repairs={"resize": rerendered("resize", renders)},
    replay=replay,
)
