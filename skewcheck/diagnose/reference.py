"""An independent look at the original file, for detectors that need more than the two tensors.

Pillow decodes the file once (no EXIF transpose, no colour management: the bytes as stored), and
the detectors re-render it with known libraries to tell which method each side used. The bytes are
read through the file's own source (a local file, or an object under a URI) and dropped once
decoded: a reference keeps only the pixels, for as long as its image is being diagnosed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from skewcheck.diagnose.fit import fit_line
from skewcheck.images.source import ImageFile
from skewcheck.tensor_layout import channels_last


@dataclass
class Reference:
    file: ImageFile

    @cached_property
    def _decoded(self) -> tuple[np.ndarray | None, np.ndarray | None, bytes | None, str | None, int]:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(self.file.read_bytes())) as im:
                im.load()
                fmt = im.format
                icc = im.info.get("icc_profile")
                orientation = int(im.getexif().get(0x0112, 1) or 1)
                alpha = None
                if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                    rgba = im.convert("RGBA")
                    alpha = np.asarray(rgba)[..., 3]
                    rgb = np.asarray(rgba)[..., :3]
                else:
                    rgb = np.asarray(im.convert("RGB"))
                return rgb, alpha, icc, fmt, orientation
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
            return None, None, None, None, 1

    @property
    def rgb(self) -> np.ndarray | None:
        return self._decoded[0]

    @property
    def alpha(self) -> np.ndarray | None:
        return self._decoded[1]

    @property
    def icc_profile(self) -> bytes | None:
        return self._decoded[2]

    @property
    def format(self) -> str | None:
        return self._decoded[3]

    @property
    def exif_orientation(self) -> int:
        return self._decoded[4]

    @cached_property
    def rgb_oriented(self) -> np.ndarray | None:
        """The pixels with the EXIF orientation applied (what an orientation-aware decoder shows)."""
        if self.rgb is None:
            return None
        from PIL import Image

        transpose = {
            2: Image.Transpose.FLIP_LEFT_RIGHT,
            3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_270,
            7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90,
        }.get(self.exif_orientation)
        if transpose is None:
            return self.rgb
        return np.asarray(Image.fromarray(self.rgb).transpose(transpose))

    @cached_property
    def colour_managed_rgb(self) -> np.ndarray | None:
        """The pixels converted from the embedded profile to sRGB (what a managed decoder shows)."""
        if self.icc_profile is None or self.rgb is None:
            return None
        from PIL import Image, ImageCms

        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(self.icc_profile))
            dst = ImageCms.createProfile("sRGB")
            out = ImageCms.profileToProfile(Image.fromarray(self.rgb), src, dst, outputMode="RGB")
            return np.asarray(out)
        except (ImageCms.PyCMSError, OSError, ValueError):
            return None

    @cached_property
    def profile_name(self) -> str | None:
        if self.icc_profile is None:
            return None
        from PIL import ImageCms

        try:
            return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(self.icc_profile))).strip()
        except (ImageCms.PyCMSError, OSError):
            return "embedded profile"


def to_hwc3(tensor: np.ndarray | None) -> np.ndarray | None:
    """A tensor as H×W×3 float64 (CHW moved, grayscale repeated, alpha dropped), or None."""
    t = np.asarray(tensor, dtype=np.float64)
    if t.ndim == 2:
        t = t[..., None]
    if t.ndim != 3:
        return None
    t = channels_last(t)
    if t.shape[-1] == 1:
        t = np.repeat(t, 3, axis=-1)
    if t.shape[-1] == 4:
        t = t[..., :3]
    return t if t.shape[-1] == 3 else None


RGB_BGR: tuple[tuple[int, ...], ...] = ((0, 1, 2), (2, 1, 0))


def affine_residual(tensor: np.ndarray, candidate: np.ndarray, orders: tuple[tuple[int, ...], ...] = RGB_BGR) -> float:
    """How well a per-channel affine map of ``candidate`` explains ``tensor`` (relative RMS).

    Scale, offset and normalisation presets are all per-channel affine, so comparing after this
    fit asks only "same pixels up to the value convention?". BGR is tried too, unless ``orders``
    names one order.
    """
    best = np.inf
    for order in orders:
        c = candidate[..., list(order)]
        err = 0.0
        for ch in range(3):
            x, y = c[..., ch].ravel(), tensor[..., ch].ravel()
            a, b = fit_line(x, y)
            err += float(np.mean((y - (a * x + b)) ** 2))
        spread = float(tensor.std()) or 1.0
        best = min(best, np.sqrt(err / 3) / spread)
    return float(best)
