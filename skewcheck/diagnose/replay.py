"""Replay candidates: what a detector declares the black-box replay may try (``SPEC.replay``).

An endpoint that takes files and returns only predictions hides its tensors, so no detector can
fit a cause to them; skewcheck/serving/replay.py instead applies each candidate skew to train's
tensor, runs the model, and keeps the candidates whose predictions match the endpoint's. Each
candidate turns train's tensor of an image into what a serving stack with that one skew would
feed the model. Value candidates act on the tensor (channel swap, ×255 / ÷255, another
normalization preset, float16); render candidates re-render the original file another way
(another resize library or method, a center crop, EXIF or the ICC profile ignored, alpha on white
or black, OpenCV's JPEG decoder) and move train's tensor by exactly that rendering difference
under train's own value convention (``transplant``, as the attribution repairs do). A candidate
returns None where it does not apply to the image (no alpha, not a JPEG, …).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from skewcheck.diagnose.measure.reference import Reference
from skewcheck.diagnose.measure.rerender import RESIZERS
from skewcheck.diagnose.measure.rerender_repair import transplant
from skewcheck.images.source import ImageFile

MAX_PIXELS = 4_000_000  # files larger than this are not re-rendered (value candidates still apply)


@dataclass
class ReplayImage:
    """One sampled image: train's tensor (H×W×3, channels last) and the file, rendered on demand."""

    path: str
    file: ImageFile
    tensor: np.ndarray
    endpoint: list[np.ndarray]
    train: list[np.ndarray]
    label: int | None = None
    _renders: dict[str, np.ndarray | None] = field(default_factory=dict, repr=False)

    @property
    def hw(self) -> tuple[int, int]:
        return int(self.tensor.shape[0]), int(self.tensor.shape[1])

    @cached_property
    def reference(self) -> Reference | None:
        ref = Reference(self.file)
        rgb = ref.rgb
        return ref if rgb is not None and rgb.shape[0] * rgb.shape[1] <= MAX_PIXELS else None

    def render(self, name: str, make: Callable[[Reference], np.ndarray | None]) -> np.ndarray | None:
        """A rendering of the file at train's size (memoised per image)."""
        if name not in self._renders:
            ref = self.reference
            self._renders[name] = None if ref is None else make(ref)
        return self._renders[name]

    @property
    def base(self) -> np.ndarray | None:
        """The plain rendering candidates are measured against: Pillow, EXIF applied, Pillow bilinear."""
        return self.render("base", lambda ref: at(ref.rgb_oriented, self.hw))

    @cached_property
    def raw_rgb(self) -> np.ndarray | None:
        """Train's tensor mapped back to 0-255 RGB by a per-channel line fitted on the base rendering."""
        base = self.base
        if base is None:
            return None
        from skewcheck.diagnose.measure.fit import fit_line

        best: tuple[float, np.ndarray] | None = None
        t = self.tensor.astype(np.float64)
        for order in ((0, 1, 2), (2, 1, 0)):
            raw = np.empty_like(t)
            err = 0.0
            for c in range(3):
                a, b = fit_line(base[..., order[c]].ravel(), t[..., c].ravel())
                if abs(a) < 1e-12:
                    return None
                raw[..., order[c]] = (t[..., c] - b) / a
                err += float(np.mean((raw[..., order[c]] - base[..., order[c]]) ** 2))
            if best is None or err < best[0]:
                best = (err, raw)
        return best[1] if best is not None else None


Apply = Callable[[np.ndarray, ReplayImage], "np.ndarray | None"]


@dataclass(frozen=True)
class Candidate:
    name: str  # what the report calls it: "RGB→BGR", "×255", "resize opencv.INTER_AREA"
    kind: str  # the finding kind it stands for (skewcheck/findings.py KINDS)
    evidence: dict[str, Any]
    fix: str
    apply: Apply
    renders: bool = False  # re-renders the file (applied before value candidates in a pair)


def at(rgb: np.ndarray | None, hw: tuple[int, int]) -> np.ndarray | None:
    if rgb is None:
        return None
    if rgb.shape[:2] == hw:
        return rgb.astype(np.float64)
    return RESIZERS["pil.bilinear"](rgb, hw)


def moved(make: Callable[[Reference, tuple[int, int]], np.ndarray | None], key: str) -> Apply:
    """Train's tensor moved by (this rendering − the base rendering), in train's value convention."""

    def apply(t: np.ndarray, img: ReplayImage) -> np.ndarray | None:
        base = img.base
        alt = img.render(key, lambda ref: make(ref, img.hw))
        if base is None or alt is None or t.ndim != 3 or t.shape[-1] != 3 or alt.shape != base.shape:
            return None
        if np.array_equal(alt, base):
            return t  # no effect on this image
        return transplant(t.astype(np.float64), alt, base)

    return apply
