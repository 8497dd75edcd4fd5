"""Base images: the bundled photos, the user's own (``--from``), and the synthetic sentinels."""

from __future__ import annotations

import io
import re
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

from skewcheck.errors import UsageError
from skewcheck.probes.model import Base

BUNDLED_PHOTOS: tuple[str, ...] = ("astronaut", "chelsea", "coffee", "rocket")
SOURCE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


def _data_path(*parts: str) -> Path:
    return Path(str(resources.files("skewcheck").joinpath("data", *parts)))


def icc_profile_path(name: str) -> Path:
    """A bundled ICC profile (see skewcheck/data/LICENSES.md)."""
    return _data_path("icc", name)


def bundled_bases() -> list[Base]:
    """The small public-domain / CC0 photos shipped in ``skewcheck/data/probe_bases``."""
    bases = []
    for name in BUNDLED_PHOTOS:
        path = _data_path("probe_bases", f"{name}.png")
        with Image.open(path) as image:
            bases.append(Base(name, np.asarray(image.convert("RGB")), source=f"bundled:{name}.png"))
    return bases


def _safe_name(relative: str) -> str:
    """File-name-safe base name from a relative path; never contains '.', which synthetic and
    derived base names use, so a user's file can't collide with them."""
    stem = relative.rsplit(".", 1)[0] if "." in relative.rsplit("/", 1)[-1] else relative
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "image"


def _to_srgb(image: Image.Image) -> Image.Image:
    """What a careful decoder shows: EXIF orientation applied, embedded ICC profile to sRGB."""
    image = ImageOps.exif_transpose(image) or image
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            managed = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
            image = managed if managed is not None else image
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: keep the pixels as they are
    return image.convert("RGB")


def user_bases(source_dir: Path, *, max_side: int | None) -> tuple[list[Base], list[str]]:
    """The user's images under ``source_dir`` (recursive, sorted) and those that could not be read.

    Each is decoded as a colour-managed, orientation-aware decoder would, converted to RGB and,
    if ``max_side`` is set, downscaled (Lanczos) so its long side is at most ``max_side``.
    """
    if not source_dir.is_dir():
        raise UsageError(f"--from: {source_dir} is not a directory")
    paths = sorted(
        (p for p in source_dir.rglob("*") if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES),
        key=lambda p: p.relative_to(source_dir).as_posix(),
    )
    bases: list[Base] = []
    skipped: list[str] = []
    used: set[str] = set()
    for path in paths:
        relative = path.relative_to(source_dir).as_posix()
        try:
            with Image.open(path) as image:
                image.load()
                rgb_image = _to_srgb(image)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            skipped.append(relative)
            continue
        if max_side and max(rgb_image.size) > max_side:
            scale = max_side / max(rgb_image.size)
            size = (max(1, round(rgb_image.width * scale)), max(1, round(rgb_image.height * scale)))
            rgb_image = rgb_image.resize(size, Image.Resampling.LANCZOS)
        name = _safe_name(relative)
        candidate, n = name, 2
        while candidate in used:
            candidate, n = f"{name}-{n}", n + 1
        used.add(candidate)
        bases.append(Base(candidate, np.asarray(rgb_image), source=relative))
    if not bases:
        raise UsageError(f"--from: no readable images in {source_dir}")
    return bases, skipped


# --- synthetic sentinels ------------------------------------------------------------------------


def channel_order_sentinel() -> np.ndarray:
    """96x64, strongly asymmetric: a large red, a medium green and a small blue block, plus a grey
    ramp. Any channel permutation changes the per-channel means by tens of levels, and the layout
    is not symmetric, so no flip can cancel a swap. At most 256 colours: palette formats keep it
    exactly."""
    img = np.zeros((64, 96, 3), np.uint8)
    img[:48, :48] = (255, 0, 0)  # red: 2304 px
    img[:32, 48:80] = (0, 255, 0)  # green: 1024 px
    img[:16, 80:] = (0, 0, 255)  # blue: 256 px
    img[16:48, 80:] = (255, 255, 0)  # yellow: no blue at all
    img[32:48, 48:80] = (255, 128, 0)  # orange
    ramp = (np.arange(96) * 255 // 95 // 8 * 8).astype(np.uint8)  # 32 grey levels
    img[48:] = ramp[None, :, None]
    return img


def resize_sentinel(size: int = 192) -> np.ndarray:
    """A zone plate (cos(k r^2), frequency rising to Nyquist at the corners) with a thin circle
    drawn on top, as in the Clean-FID paper: downscaling with and without antialiasing, or with
    another filter, gives visibly different results (moire rings, a broken circle)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    c = (size - 1) / 2
    r2 = (x - c) ** 2 + (y - c) ** 2
    plate = 0.5 + 0.5 * np.cos(np.pi * r2 / (2 * size))  # local frequency r/size cycles/px
    radius = size * 0.3
    ring = np.abs(np.sqrt(r2) - radius) < 1.0
    gray = np.where(ring, 0.0, plate)
    return np.repeat(np.round(gray * 255).astype(np.uint8)[..., None], 3, axis=2)


def alpha_sentinel() -> Image.Image:
    """96x64 RGBA. Left: opaque grey. Right half: fully transparent, hidden RGB pure magenta.
    Bottom band: alpha 128 over pure green. Dropping alpha, compositing on white and compositing
    on black give three different, recognisable images."""
    rgba = np.zeros((64, 96, 4), np.uint8)
    rgba[:, :48] = (128, 128, 128, 255)
    rgba[:, 48:] = (255, 0, 255, 0)
    rgba[48:, :] = (0, 255, 0, 128)
    return Image.fromarray(rgba, "RGBA")
