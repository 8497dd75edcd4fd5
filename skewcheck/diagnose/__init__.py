"""Detectors: each explains one kind of difference between the two outcomes of an image.

Which detectors exist, in which order they run and what each may read of the others is declared
by each module's ``SPEC`` (skewcheck/diagnose/registry.py), not by the order of a list here.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import Detector, DetectorSpec, ordered
from skewcheck.findings import Observation

# The built-in detectors, by module name (skewcheck/diagnose/detectors/<name>.py); a plugin uses register_detector.
BUILTIN = (
    "alpha",
    "channel_order",
    "color_conversion",
    "color_profile",
    "crop",
    "decode_tolerance",
    "dtype",
    "gamma",
    "jpeg_decoder",
    "model_input",
    "model_range",
    "nondeterminism",
    "normalization",
    "orientation",
    "padding",
    "pipeline_error",
    "prediction",
    "probe_expectation",
    "quantization",
    "resize",
    "scale",
    "shape_layout",
)
MODULES: list[ModuleType] = [importlib.import_module(f"skewcheck.diagnose.detectors.{name}") for name in BUILTIN]
DETECTORS: tuple[Detector, ...] = ordered(MODULES)


def register_detector(module: ModuleType) -> None:
    """Add a detector: a module (or object) with ``SPEC`` (a DetectorSpec) and ``detect(ctx)``.
    The run order is derived again from every SPEC, as for the built-in ones."""
    global DETECTORS
    if any(m.__name__ == module.__name__ for m in MODULES):
        raise ValueError(f"detector {module.__name__!r} is registered already")
    order = ordered([*MODULES, module])  # raises on a dependency cycle before anything changes
    MODULES.append(module)
    DETECTORS = order


def diagnose(ctx: PairContext) -> list[Observation]:
    """Run every detector; one that fails on an odd tensor is recorded, never fatal to the audit."""
    for detector in DETECTORS:
        spec = getattr(detector, "spec", None)
        known = ctx.facts.observations.get(_name(detector)) if ctx.facts is not None else None
        try:
            found = known if known is not None else detector(ctx)
        except Exception as exc:  # noqa: BLE001 (a detector bug must not end the audit)
            ctx.detector_errors.append(f"{_name(detector)}: {type(exc).__name__}: {exc}")
            continue
        if found and spec is not None and spec.supersedes:
            replaced = {k for o in found for k in (spec.supersedes if o.supersedes is None else o.supersedes)}
            ctx.found[:] = [o for o in ctx.found if o.kind not in replaced]
        ctx.found.extend(found)
    return list(ctx.found)


def pure_observations(ctx: PairContext) -> dict[str, list[Observation]]:
    """What the detectors declared ``pure`` find on this pair, by detector name (skewcheck/diagnose/facts.py);
    a detector that fails is left out, so the audit runs it again and records its error."""
    out = {}
    for detector in DETECTORS:
        spec = getattr(detector, "spec", None)
        if spec is None or not spec.pure:
            continue
        try:
            out[_name(detector)] = detector(ctx)
        except Exception:  # noqa: BLE001, S112 (recorded when the audit runs it)
            continue
    return out


def specs() -> list[tuple[str, DetectorSpec]]:
    """Each detector's name and SPEC, in run order (a bare callable in DETECTORS declares none)."""
    out = []
    for detector in DETECTORS:
        spec = getattr(detector, "spec", None)
        if isinstance(spec, DetectorSpec):
            out.append((_name(detector), spec))
    return out


def _name(detector: object) -> str:
    name = getattr(detector, "name", None)
    return name if isinstance(name, str) else getattr(detector, "__module__", "?").rsplit(".", 1)[-1]
