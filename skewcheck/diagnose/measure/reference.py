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

from skewcheck.diagnose.measure.moments import stacked_moments
from skewcheck.images.source import ImageFile
from skewcheck.tensor_layout import channels_last

Decoded = tuple[np.ndarray | None, np.ndarray | None, bytes | None, str | None, int]  # rgb, alpha, icc, format, EXIF


@dataclass
class Reference:
    file: ImageFile

    @classmethod
    def from_portable(cls, file: ImageFile, portable: tuple) -> Reference:
        """A Reference whose decode was done elsewhere (a worker process): see :meth:`portable`."""
        ref = cls(file)
        (rgb, alpha), rest = (_array(a) for a in portable[:2]), portable[2:]
        ref.__dict__["_decoded"] = (rgb, alpha, *rest)  # the cached decode
        return ref

    def portable(self) -> tuple:
        """The decode as bytes to send to another process; the arrays come back read-only over
        those bytes, as Pillow's are here, so the renders of them are memoised there too."""
        rgb, alpha, *rest = self._decoded
        return (_portable(rgb), _portable(alpha), *rest)

    @cached_property
    def _decoded(self) -> Decoded:
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
        return oriented(self.rgb, self.exif_orientation) if self.rgb is not None else None

    def composited(self, fill: int) -> np.ndarray | None:
        """The oriented pixels over a plain ``fill`` background through their alpha (what a
        pipeline that flattens transparency shows), one array per fill (its renders are memoised)."""
        if self.alpha is None or self.rgb_oriented is None:
            return None
        cache = self.__dict__.setdefault("_composites", {})
        if fill not in cache:
            a = oriented(self.alpha, self.exif_orientation)[..., None].astype(np.float32) / 255
            flat = self.rgb_oriented.astype(np.float32) * a + np.float32(fill) * (1 - a)
            cache[fill] = np.clip(np.rint(flat), 0, 255).astype(np.uint8)
        return cache[fill]

    def source(self, name: str | None) -> np.ndarray | None:
        """The oriented pixels a pipeline resampled, by :data:`SOURCES` name (None: as decoded)."""
        if name == "alpha over white":
            return self.composited(255)
        if name == "alpha over black":
            return self.composited(0)
        if name == SRGB:
            return self.colour_managed_oriented
        return self.rgb_oriented

    @cached_property
    def colour_managed_oriented(self) -> np.ndarray | None:
        cm = self.colour_managed_rgb
        return oriented(cm, self.exif_orientation) if cm is not None else None

    @cached_property
    def colour_managed_rgb(self) -> np.ndarray | None:
        """The pixels converted from the embedded profile to sRGB (what a managed decoder shows)."""
        return self.to_srgb(self.rgb) if self.rgb is not None else None

    def to_srgb(self, rgb: np.ndarray) -> np.ndarray | None:
        """``rgb`` (this file's pixels, as some decoder gave them) converted from the embedded
        profile to sRGB; None without a profile or when it cannot be applied."""
        if self.icc_profile is None:
            return None
        from PIL import Image, ImageCms

        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(self.icc_profile))
            dst = ImageCms.createProfile("sRGB")
            out = ImageCms.profileToProfile(Image.fromarray(rgb), src, dst, outputMode="RGB")
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


SRGB = "sRGB (ICC applied)"
SOURCES = (None, "alpha over white", "alpha over black", SRGB)


def resampled_source(ref: Reference, train: np.ndarray | None) -> str | None:
    """What train resampled: the decoded pixels (None), or, when the file has alpha or a profile,
    them flattened over white or black or converted to sRGB, whichever explains train best. The
    re-rendering detectors (resize, crop, padding) start from that, not from pixels no pipeline used.
    Decided once per pair (the reference is the pair's)."""
    rgb = ref.rgb_oriented
    if rgb is None or (ref.alpha is None and ref.icc_profile is None):
        return None
    memo = ref.__dict__.setdefault("_resampled", {})
    if "train" in memo:
        return memo["train"]
    t = to_hwc3(train)
    if t is None:
        return None
    import cv2

    hw = t.shape[:2]
    scored = []
    for i, name in enumerate(SOURCES):
        o = ref.source(name)
        if o is not None and o.shape[:2] == rgb.shape[:2]:
            small = cv2.resize(np.ascontiguousarray(o), (hw[1], hw[0]), interpolation=cv2.INTER_AREA)
            scored.append((affine_residual(t, small.astype(np.float64)), i, name))
    memo["train"] = min(scored)[2] if scored else None
    return memo["train"]


def _portable(a: np.ndarray | None) -> tuple[bytes, tuple[int, ...]] | None:
    return None if a is None else (np.ascontiguousarray(a, dtype=np.uint8).tobytes(), a.shape)


def _array(p: tuple[bytes, tuple[int, ...]] | None) -> np.ndarray | None:
    return None if p is None else np.frombuffer(p[0], dtype=np.uint8).reshape(p[1])


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
    """The smallest of :func:`affine_residuals` over ``orders``."""
    return min(affine_residuals(tensor, candidate, orders))


def affine_residuals(
    tensor: np.ndarray, candidate: np.ndarray, orders: tuple[tuple[int, ...], ...] = RGB_BGR
) -> list[float]:
    """How well a per-channel affine map of ``candidate`` explains ``tensor`` (relative RMS).

    Scale, offset and normalisation presets are all per-channel affine, so comparing after this
    fit asks only "same pixels up to the value convention?". BGR is tried too, unless ``orders``
    names one order. Least squares has a closed form in the pair's first and second moments, so
    one pass over the pixels (a 7×7 product) answers every order; the detectors compare these
    numbers with each other at ratios like 0.6-0.7, far above the moments' rounding (~1e-8 of
    the tensor's spread).
    """
    return _Moments3([tensor], [candidate]).residuals(0, 0, orders)


def affine_residual_table(
    tensors: list[np.ndarray], candidates: list[np.ndarray], orders: tuple[tuple[int, ...], ...] = RGB_BGR
) -> list[list[float]]:
    """``[i][j]``: :func:`affine_residual` of ``tensors[i]`` by ``candidates[j]``, every pair from
    one pass over the pixels (e.g. both sides against each resize method's rendering)."""
    pixels = int(np.asarray(tensors[0]).size // 3) if tensors else 0
    if pixels * (3 * (len(tensors) + len(candidates)) + 1) > _TABLE_FLOATS:  # large tensors: pair by pair
        return [[affine_residual(t, c, orders) for c in candidates] for t in tensors]
    moments = _Moments3(tensors, candidates)
    return [[min(moments.residuals(i, j, orders)) for j in range(len(candidates))] for i in range(len(tensors))]


_TABLE_FLOATS = 1 << 22  # 32 MiB of stacked columns at most


class _Moments3:
    """First and second moments of 3-channel tensors and candidates (same pixel count), stacked."""

    def __init__(self, tensors: list[np.ndarray], candidates: list[np.ndarray]) -> None:
        columns = [np.asarray(a, dtype=np.float64).reshape(-1, 3) for a in (*candidates, *tensors)]
        self.n, self.k = columns[0].shape[0], len(candidates)
        if self.n == 0:
            return
        self.raw, self.mean, self.cov = stacked_moments(columns)

    def residuals(self, tensor: int, candidate: int, orders: tuple[tuple[int, ...], ...]) -> list[float]:
        if self.n == 0:
            return [0.0 for _ in orders]
        x, y = 3 * candidate, 3 * (self.k + tensor)
        var = self.cov.diagonal()
        var_x, var_y, cross = var[x : x + 3], var[y : y + 3], self.cov[x : x + 3, y : y + 3]  # cross[i, c]: x_i, y_c
        square = float(self.raw.diagonal()[y : y + 3].mean() - self.mean[y : y + 3].mean() ** 2)
        spread = float(np.sqrt(max(square, 0.0))) or 1.0
        channels = np.arange(3)
        out = []
        for order in orders:
            p = list(order)
            vx, xy = var_x[p], cross[p, channels]
            # a constant candidate channel: slope 1 (fit_line's rule), so what is left is var(y - x)
            mse = np.where(vx > 0, var_y - xy * np.divide(xy, vx, out=np.zeros(3), where=vx > 0), var_y - 2 * xy + vx)
            out.append(float(np.sqrt(max(float(mse.mean()), 0.0))) / spread)
        return out


def oriented(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """``rgb`` with EXIF orientation ``orientation`` applied (1 or unknown: as it is)."""
    from PIL import Image

    transpose = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return rgb if transpose is None else np.asarray(Image.fromarray(rgb).transpose(transpose))
