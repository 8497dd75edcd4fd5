"""One file's profile record: what its headers say, and statistics of a thumbnail decode.

Pillow opens lazily: format, mode, size, EXIF, ICC, JPEG tables and sampling come from the
headers. The pixels are decoded once, small: a JPEG through ``Image.draft`` (the decoder's own
DCT scaling to 1/2, 1/4 or 1/8), anything else decoded whole; then reduced by the smallest
integer factor (a box filter, ``Image.reduce``) that brings the long side to ``THUMB`` px or less.
That decode also tells whether the file is whole: a file that does not open or does not decode
is a decode failure with its reason, never an exception out of this module.

A record (the profile JSON's ``images`` items, ``skewcheck.profile/v1``)::

    {"path", "bytes", "status": ok | truncated | corrupt | not-an-image | empty | too-large | unreadable,
     "error": reason or None, "format", "mode", "bit_depth", "alpha", "width", "height",
     "exif_orientation": 1-8 or None, "icc": profile description or None, "cmyk",
     "progressive", "subsampling", "jpeg_quality", "jpeg_quality_exact", "animated", "frames",
     "pixels": {mean, std, brightness, contrast, saturated, blur} or None}
"""

from __future__ import annotations

import io
import math
import warnings
from typing import Any

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from skewcheck.errors import one_line
from skewcheck.images.source import ImageFile
from skewcheck.profile.jpeg import estimate_quality, missing_end, subsampling
from skewcheck.profile.pixels import THUMB, pixel_stats

ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
BITS = {"1": 1, "I": 32, "F": 32, "I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16}
_ICC_NAMES: dict[bytes, str] = {}  # profile bytes → description: a set shares a few profiles


def read_file(file: ImageFile, path: str) -> dict[str, Any]:
    """The record of ``file`` (named ``path`` in the profile); never raises for a bad image."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        return _failed(path, 0, "unreadable", exc.strerror or one_line(exc))
    return read_bytes(data, path)


def read_bytes(data: bytes, path: str) -> dict[str, Any]:
    if not data:
        return _failed(path, 0, "empty", "zero-byte file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning, odd EXIF: the record says what matters
            return _read(data, path)
    except Exception as exc:  # noqa: BLE001 (a hostile file may make a plugin raise anything)
        return _failed(path, len(data), "corrupt", f"{type(exc).__name__}: {one_line(exc)}")


def _failed(path: str, size: int, status: str, reason: str) -> dict[str, Any]:
    return {"path": path, "bytes": size, "status": status, "error": reason}


def _read(data: bytes, path: str) -> dict[str, Any]:
    try:
        im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        return _failed(path, len(data), "not-an-image", "no image format recognises it")
    except Image.DecompressionBombError as exc:
        return _failed(path, len(data), "too-large", one_line(exc))
    with im:
        record = _headers(im, data, path)
        status, error, rgb = _decode(im, data)
    record["status"], record["error"] = status, error
    record["pixels"] = pixel_stats(rgb) if rgb is not None else None
    return record


def _headers(im: Image.Image, data: bytes, path: str) -> dict[str, Any]:
    fmt = im.format or "unknown"
    jpeg = fmt in ("JPEG", "MPO")
    quality = estimate_quality(getattr(im, "quantization", None) or {}) if jpeg else None
    icc = im.info.get("icc_profile")
    return {
        "path": path,
        "bytes": len(data),
        "format": fmt,
        "mode": im.mode,
        "bit_depth": _bit_depth(im, data),
        "alpha": im.mode in ALPHA_MODES or "transparency" in im.info,
        "width": im.width,
        "height": im.height,
        "exif_orientation": _orientation(im),
        "icc": _icc_name(icc) if icc else None,
        "cmyk": im.mode == "CMYK",
        "progressive": bool(im.info.get("progressive") or im.info.get("progression")) if jpeg else None,
        "subsampling": subsampling(getattr(im, "layer", None)) if jpeg else None,
        "jpeg_quality": quality[0] if quality else None,
        "jpeg_quality_exact": quality[1] if quality else None,
        "animated": bool(getattr(im, "is_animated", False)),
        "frames": int(getattr(im, "n_frames", 1)),
    }


def _bit_depth(im: Image.Image, data: bytes) -> int:
    if im.format == "PNG" and len(data) > 24:
        return int(data[24])  # IHDR's bit depth: Pillow opens 16-bit RGB as 8-bit "RGB"
    if im.format == "JPEG":
        return int(getattr(im, "bits", 8))
    return BITS.get(im.mode, 8)


def _orientation(im: Image.Image) -> int | None:
    try:
        value = im.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 (a malformed EXIF block: no orientation to read)
        return None
    return int(value) if isinstance(value, int) else None


def _icc_name(icc: bytes) -> str:
    name = _ICC_NAMES.get(icc)
    if name is None:
        try:
            name = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip() or "unnamed"
        except Exception:  # noqa: BLE001 (littlecms refuses a malformed profile)
            name = "unreadable profile"
        if len(_ICC_NAMES) < 256:
            _ICC_NAMES[icc] = name
    return name


def _decode(im: Image.Image, data: bytes) -> tuple[str, str | None, np.ndarray | None]:
    """(status, reason, the RGB thumbnail or None)."""
    try:
        if im.format == "JPEG":
            im.draft("RGB" if im.mode != "L" else "L", (THUMB, THUMB))
        im.load()
    except Image.DecompressionBombError as exc:
        return "too-large", one_line(exc), None
    except OSError as exc:
        text = one_line(exc)
        return ("truncated" if "truncat" in text.lower() else "corrupt"), text, None
    except Exception as exc:  # noqa: BLE001
        return "corrupt", f"{type(exc).__name__}: {one_line(exc)}", None
    rgb_image = im.convert("RGB")  # a JPEG is already small here (its draft)
    factor = math.ceil(max(rgb_image.size) / THUMB)
    rgb = np.asarray(rgb_image.reduce(factor) if factor > 1 else rgb_image)  # box filter, integer factor
    if im.format == "JPEG" and missing_end(data):
        return "truncated", "no end-of-image marker after the scan (decoders differ on such a file)", rgb
    return "ok", None, rgb
