"""orientation / color-profile / alpha (both sides, from a probe): both pipelines decode a probe alike, and both wrongly.

Cause: a probe whose expected decode is known (an EXIF-rotated, ICC-tagged or transparent file of
the built-in set) comes out of both pipelines unlike its base image, the same way on each side: the
pair agrees, so no pairwise detector sees anything, but production images like it reach the model
wrong. Evidence: the probe kind. Fix: apply EXIF orientation, convert to sRGB, or composite alpha
explicitly, on both sides. Graded minor: the model sees the same wrong tensor on both sides, so no
prediction changes between them.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("orientation", "color-profile", "alpha"), reads=("prediction",), catch_all=True)

_BOTH_WRONG = {
    "exif": (
        "orientation",
        "both sides ignore the EXIF orientation tag of this probe",
        "Apply PIL.ImageOps.exif_transpose (or equivalent) after decoding, on both sides.",
    ),
    "icc": (
        "color-profile",
        "both sides ignore the embedded ICC profile of this probe",
        "Convert to sRGB with PIL.ImageCms.profileToProfile after decoding, on both sides.",
    ),
    "alpha": (
        "alpha",
        "both sides render the transparent pixels of this probe unlike its base",
        "Composite on an explicit background before converting to RGB, on both sides.",
    ),
}


def detect(ctx: PairContext) -> list[Observation]:
    probe = ctx.probe
    if ctx.found or probe is None or probe.category not in _BOTH_WRONG:
        return []  # another detector explained this image: the pair differs, it is not "both alike"
    if not (ctx.deviates.get("train") and ctx.deviates.get("serve")):
        return []
    kind, explanation, fix = _BOTH_WRONG[probe.category]
    return [
        Observation(
            kind,
            Severity.MINOR,
            "both",
            {"probe": probe.kind},
            explanation + ": consistent, but production images like it reach the model wrong.",
            fix,
            0.5,
            merge_on=(),
        )
    ]
