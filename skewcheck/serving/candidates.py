"""Candidate skews the black-box replay applies to the train tensor, one small function each.

Each candidate turns train's tensor of an image into what a serving stack with that one skew would
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

from skewcheck.diagnose.reference import Reference
from skewcheck.diagnose.rerender import RESIZERS, center_fraction
from skewcheck.diagnose.rerender import candidates as resizers
from skewcheck.diagnose.rerender_repair import transplant
from skewcheck.images.source import ImageFile
from skewcheck.presets import PRESETS

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
        return self.render("base", lambda ref: _at(ref.rgb_oriented, self.hw))

    @cached_property
    def raw_rgb(self) -> np.ndarray | None:
        """Train's tensor mapped back to 0-255 RGB by a per-channel line fitted on the base rendering."""
        base = self.base
        if base is None:
            return None
        from skewcheck.diagnose.fit import fit_line

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


def _at(rgb: np.ndarray | None, hw: tuple[int, int]) -> np.ndarray | None:
    if rgb is None:
        return None
    if rgb.shape[:2] == hw:
        return rgb.astype(np.float64)
    return RESIZERS["pil.bilinear"](rgb, hw)


def _moved(make: Callable[[Reference, tuple[int, int]], np.ndarray | None], key: str) -> Apply:
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


def _swap(t: np.ndarray, img: ReplayImage) -> np.ndarray | None:
    return t[..., ::-1] if t.ndim == 3 and t.shape[-1] == 3 else None


def _times(k: float) -> Apply:
    return lambda t, img: t.astype(np.float64) * k


def _preset(name: str) -> Apply:
    def apply(t: np.ndarray, img: ReplayImage) -> np.ndarray | None:
        raw = img.raw_rgb
        if raw is None or raw.shape != t.shape:
            return None
        out = PRESETS[name].apply(raw)
        scale = float(np.ptp(t)) or 1.0
        return None if float(np.max(np.abs(out - t))) < 1e-3 * scale else out  # train's own convention

    return apply


def _float16(t: np.ndarray, img: ReplayImage) -> np.ndarray | None:
    return t.astype(np.float16).astype(t.dtype) if np.issubdtype(t.dtype, np.floating) else None


def _crop(fraction: float) -> Callable[[Reference, tuple[int, int]], np.ndarray | None]:
    return lambda ref, hw: (
        _at(center_fraction(ref.rgb_oriented, fraction), hw) if ref.rgb_oriented is not None else None
    )


def _no_exif(ref: Reference, hw: tuple[int, int]) -> np.ndarray | None:
    return _at(ref.rgb, hw) if ref.exif_orientation != 1 else None


def _colour_managed(ref: Reference, hw: tuple[int, int]) -> np.ndarray | None:
    return _at(ref.colour_managed_rgb, hw) if ref.icc_profile and ref.exif_orientation == 1 else None


def _on(background: float) -> Callable[[Reference, tuple[int, int]], np.ndarray | None]:
    def make(ref: Reference, hw: tuple[int, int]) -> np.ndarray | None:
        rgb = ref.rgb
        if ref.alpha is None or rgb is None or ref.exif_orientation != 1:
            return None
        a = ref.alpha.astype(np.float64)[..., None] / 255.0
        return _at(np.round(rgb * a + background * (1 - a)).astype(np.uint8), hw)

    return make


def _opencv_jpeg(ref: Reference, hw: tuple[int, int]) -> np.ndarray | None:
    if ref.format != "JPEG" or ref.exif_orientation != 1:
        return None
    import cv2

    bgr = cv2.imdecode(np.frombuffer(ref.file.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    return None if bgr is None else _at(np.ascontiguousarray(bgr[..., ::-1]), hw)


def _resize(
    name: str, resizer: Callable[[np.ndarray, tuple[int, int]], np.ndarray]
) -> Callable[[Reference, tuple[int, int]], np.ndarray | None]:
    return lambda ref, hw: resizer(ref.rgb_oriented, hw) if ref.rgb_oriented is not None else None


def all_candidates() -> list[Candidate]:
    """Every candidate, in the order ties are broken (the plainer explanation first)."""
    out = [
        Candidate(
            "RGB→BGR",
            "channel-order",
            {"permutation": [2, 1, 0]},
            "The serving stack feeds channels in BGR order (OpenCV's): convert to RGB (cv2.cvtColor(..., COLOR_BGR2RGB)) before the model, as training does.",
            _swap,
        ),
        Candidate(
            "×255",
            "scale",
            {"k": 255.0},
            "The serving stack feeds values 255× larger than training: divide by 255 in its preprocessing, as training does.",
            _times(255.0),
        ),
        Candidate(
            "÷255",
            "scale",
            {"k": round(1 / 255, 8)},
            "The serving stack divides by 255 once more than training: remove the extra scaling.",
            _times(1 / 255),
        ),
    ]
    for name, preset in PRESETS.items():
        out.append(
            Candidate(
                f"preset {name}",
                "normalization",
                {"serve_preset": name},
                f"The serving stack normalizes as {preset.description}: use training's normalization.",
                _preset(name),
            )
        )
    out.append(
        Candidate(
            "float16",
            "dtype",
            {"serve_dtype": "float16"},
            "The serving stack rounds the input to float16: feed float32 as training does.",
            _float16,
        )
    )
    for name, resizer in resizers().items():
        if name != "pil.bilinear":
            out.append(
                Candidate(
                    f"resize {name}",
                    "resize",
                    {"serve": name},
                    f"The serving stack resizes with {name}: resize as training does.",
                    _moved(_resize(name, resizer), f"resize:{name}"),
                    True,
                )
            )
    out += [
        Candidate(
            "center crop 87.5 %",
            "crop",
            {"serve": "center-crop-0.875"},
            "The serving stack center-crops (resize 256, crop 224 style) where training does not: frame the image as training does.",
            _moved(_crop(0.875), "crop"),
            True,
        ),
        Candidate(
            "EXIF orientation ignored",
            "orientation",
            {"exif": "ignored"},
            "The serving stack ignores the EXIF orientation: apply it (PIL.ImageOps.exif_transpose) as training does.",
            _moved(_no_exif, "exif"),
            True,
        ),
        Candidate(
            "ICC profile converted",
            "color-profile",
            {"serve": "converts the ICC profile to sRGB"},
            "The serving stack colour-manages the file where training does not (or the reverse): handle the ICC profile the same way on both sides.",
            _moved(_colour_managed, "icc"),
            True,
        ),
        Candidate(
            "alpha on white",
            "alpha",
            {"serve": "composites on white"},
            "The serving stack composites transparent pixels on white: handle alpha as training does.",
            _moved(_on(255.0), "alpha-white"),
            True,
        ),
        Candidate(
            "alpha on black",
            "alpha",
            {"serve": "composites on black"},
            "The serving stack composites transparent pixels on black: handle alpha as training does.",
            _moved(_on(0.0), "alpha-black"),
            True,
        ),
        Candidate(
            "OpenCV JPEG decoder",
            "jpeg-decoder",
            {"serve": "opencv"},
            "The serving stack decodes JPEG with OpenCV (libjpeg-turbo's other IDCT / chroma upsampling): decode with the training library.",
            _moved(_opencv_jpeg, "jpeg-opencv"),
            True,
        ),
    ]
    return out
