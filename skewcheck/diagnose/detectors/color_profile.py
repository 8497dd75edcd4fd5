"""color-profile: only a colour-managed decode explains one side; the file carries an ICC profile.

Cause: PIL, OpenCV and tf.io ignore embedded ICC profiles; one side converts to sRGB (ImageCms),
the other does not, so Adobe RGB / Display P3 photos look washed out on one side only.
Evidence: the profile, which side ignores it, how far the two renderings are. Fix: convert to
sRGB with ``PIL.ImageCms.profileToProfile`` on both sides.
"""

from __future__ import annotations

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.reference import affine_residual, to_hwc3
from skewcheck.diagnose.measure.rerender import RESIZERS
from skewcheck.diagnose.measure.rerender_repair import Renders, rerendered, source_rgb
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.replay import Candidate, at, moved
from skewcheck.findings import Observation, Severity


def detect(ctx: PairContext) -> list[Observation]:
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.icc_profile is None:
        return []
    if ctx.found_kinds & {"crop", "orientation"}:
        return []
    raw, managed = ref.rgb, ref.colour_managed_rgb
    if raw is None or managed is None:
        return []
    if float(np.mean(np.abs(raw.astype(np.float64) - managed))) < 1.0:
        return []  # the profile is (close to) sRGB: nothing to tell apart
    verdict = {}
    for side, outcome in (("train", ctx.train), ("serve", ctx.serve)):
        x = to_hwc3(outcome.tensor) if outcome.tensor is not None else None
        if x is None:
            return []
        hw = (x.shape[0], x.shape[1])
        naive, cms = affine_residual(x, _at_size(raw, hw)), affine_residual(x, _at_size(managed, hw))
        verdict[side] = "ignores" if naive < cms else "applies"
    if verdict["train"] == verdict["serve"]:
        return []
    ignoring = "train" if verdict["train"] == "ignores" else "serve"
    gap = float(np.mean(np.abs(raw.astype(np.float64) - managed)))
    evidence = {"profile": ref.profile_name, "ignores": ignoring}
    return [
        Observation(
            "color-profile",
            Severity.MAJOR,
            ignoring,
            evidence,
            f"the file embeds an ICC profile ({ref.profile_name}); {ignoring} ignores it, the other side "
            f"converts to sRGB (the two renderings differ by {gap:.1f}/255 on average).",
            "Convert to sRGB on both sides: PIL.ImageCms.profileToProfile(img, embedded_profile, "
            "ImageCms.createProfile('sRGB')) right after decoding.",
            1.0,
            measures={"managed_vs_naive_mean_abs_255": round(gap, 2)},
            merge_on=("ignores",),
            repair=("color-profile",),
        )
    ]


def _at_size(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    return img.astype(np.float64) if img.shape[:2] == hw else RESIZERS["pil.bilinear"](img, hw)


def renders(evidence: dict, ref, hw: tuple[int, int]) -> Renders | None:
    """The file rendered with and without its profile, in the order the evidence's ``ignores`` says
    (the repair: rerender_repair.rerendered)."""
    raw, managed = ref.rgb, ref.colour_managed_rgb
    if source_rgb(evidence, ref) is None or raw is None or managed is None or ref.exif_orientation != 1:
        return None
    bilinear = RESIZERS["pil.bilinear"]
    naive = raw.astype(np.float64) if raw.shape[:2] == hw else bilinear(raw, hw)
    cms = managed.astype(np.float64) if managed.shape[:2] == hw else bilinear(managed, hw)
    return (naive, cms) if evidence.get("ignores") == "train" else (cms, naive)


def replay() -> list[Candidate]:
    """The black-box replay's candidate (skewcheck/diagnose/replay.py): the file converted to sRGB by its profile."""
    return [
        Candidate(
            "ICC profile converted",
            "color-profile",
            {"serve": "converts the ICC profile to sRGB"},
            "The serving stack colour-manages the file where training does not (or the reverse): handle the ICC profile the same way on both sides.",
            moved(_colour_managed, "icc"),
            True,
        )
    ]


def _colour_managed(ref, hw: tuple[int, int]) -> np.ndarray | None:
    return at(ref.colour_managed_rgb, hw) if ref.icc_profile and ref.exif_orientation == 1 else None


SPEC = DetectorSpec(
    kinds=("color-profile",),
    reads=("crop", "orientation"),
    repairs={"color-profile": rerendered("color-profile", renders)},
    replay=replay,
)
