"""The resize policy of each side, fitted from every shape pair of a ``shape`` finding.

Dynamic-size models (text detectors, segmenters) take any size that is a multiple of 32 or so;
each pipeline scales the image by a rule ("short side to 736", "long side at most 736") and rounds.
Another rule gives another shape on most images; the pairs differ, the cause is one. Each ``shape``
observation carries ``sizes`` (the file's H×W, train's and serve's spatial H×W); the merged finding
shows ``policy``: per side, which side of the image is scaled to what, and the rounding multiple.
"""

from __future__ import annotations

from typing import Any

MULTIPLES = (64, 32, 16, 8, 4, 2)


def spatial(shape: tuple[int, ...]) -> tuple[int, int] | None:
    """H×W of an image tensor shape (HWC, CHW, HW, with or without a batch axis of 1)."""
    dims = list(shape)
    if len(dims) == 4 and dims[0] == 1:
        dims = dims[1:]
    if len(dims) == 2:
        return dims[0], dims[1]
    if len(dims) == 3:
        if dims[-1] in (1, 3, 4):
            return dims[0], dims[1]
        if dims[0] in (1, 3, 4):
            return dims[1], dims[2]
    return None


def fit_policy(sizes: list[list[list[int]]]) -> dict[str, str] | None:
    """Per side, the rule every pair agrees with, from [[H0, W0], [h_train, w_train], [h_serve, w_serve]]."""
    if not sizes:
        return None
    out = {}
    for i, side in ((1, "train"), (2, "serve")):
        hws = [s[i] for s in sizes]
        multiple = next((m for m in MULTIPLES if all(h % m == 0 and w % m == 0 for h, w in hws)), 1)
        rounding = f", rounded to a multiple of {multiple}" if multiple > 1 else ""
        shorts = {min(h, w) for h, w in hws}
        longs = {max(h, w) for h, w in hws}
        fixed = {(h, w) for h, w in hws}
        kept = all(_aspect_kept(o, hw, multiple) for o, hw in zip((s[0] for s in sizes), hws, strict=True))
        if len(fixed) == 1:
            h, w = next(iter(fixed))
            out[side] = f"fixed {w}×{h}"
        elif kept and len(shorts) == 1:
            out[side] = f"short side to {next(iter(shorts))}, aspect kept{rounding}"
        elif kept and len(longs) == 1:
            out[side] = f"long side to {next(iter(longs))}, aspect kept{rounding}"
        elif kept:
            out[side] = (
                f"aspect kept, short side {min(shorts)}-{max(shorts)}, long side {min(longs)}-{max(longs)}{rounding}"
            )
        else:
            out[side] = f"sizes vary{rounding}"
    return out


def _aspect_kept(original: list[int], hw: list[int], multiple: int) -> bool:
    h0, w0 = original
    h, w = hw
    if min(h0, w0, h, w) <= 0:
        return False
    # rounding each side to ``multiple`` moves the aspect by at most about multiple / side
    return abs(h / w - h0 / w0) <= (h0 / w0) * (multiple / min(h, w) + multiple / max(h, w)) + 0.02


def derive(finding: Any) -> None:
    """Replace the per-image ``sizes`` of a merged ``shape`` finding with the fitted ``policy``."""
    tally = finding.tallies.get("sizes")
    if not tally:
        return
    policy = fit_policy([value for _, value in tally.values()])
    finding.evidence.pop("sizes", None)
    if policy is not None:
        finding.evidence["policy"] = policy
