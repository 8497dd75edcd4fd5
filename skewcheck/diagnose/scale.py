"""scale: serve ≈ k · train for one global factor k (255, 1/255, 127.5 …).

Cause: a missing or doubled ``/ 255`` (the classic: trained on [0, 1], served raw uint8), or
uint16 vs uint8 decoding. Evidence: the fitted k and its name when it is a usual constant.
Fix: apply the same scaling as training, once.
"""

from __future__ import annotations

import math

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.fit import named_factor
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("scale",))

_RAW_UNIT = {"raw", "unit"}


def detect(ctx: PairContext) -> list[Observation]:
    fit = ctx.value_fit
    if fit is None:
        return []
    if fit.model == "presets" and fit.presets and set(fit.presets) == _RAW_UNIT:
        k = 255.0 if fit.presets == ("unit", "raw") else 1 / 255
    elif fit.model == "scale" and fit.factor is not None and abs(fit.factor - 1) > 1e-3:
        k = fit.factor
    else:
        return []
    name = named_factor(k)
    evidence: dict[str, object] = {"k": float(f"{k:.6g}")}
    if name:
        evidence["k_named"] = name
    magnitude = abs(math.log10(abs(k))) if k else 1.0
    severity = Severity.CRITICAL if magnitude >= 1 else Severity.MAJOR
    shown = name or f"{k:.4g}"
    if k > 1:
        fix = f"Divide the serve tensor by {shown} (as training does), after casting to float."
    else:
        fix = f"Remove the extra division in serve (multiply by {1 / k:.4g}) so it matches training."
    return [
        Observation(
            "scale", severity, "serve", evidence,
            f"serve tensors are {shown} × train tensors: the value scaling differs (e.g. a missing or extra /255).",
            fix, magnitude, repair=("values",),
        )
    ]
