"""One file's profile record: what its headers say (every file), and statistics of a thumbnail
decode (the files of the pixel sample).

**Headers** (every file, near the cost of ``Image.open`` and ``getexif``): the file is opened
once; Pillow reads lazily, so format, mode, size, EXIF, ICC, JPEG tables and sampling come from
the headers alone. A file of more than ``HEAD`` bytes is never read whole: whether it is cut short
is read from its tail (a JPEG's end-of-image marker after its first scan, a PNG's ``IEND``, a
WebP's RIFF length), searching backwards from the end, a ``TAIL``-sized window at a time. ICC
profile descriptions are parsed once per distinct profile.

**Decode** (``decode=True``: the files the pixel sample drew): the pixels are decoded once, small:
a JPEG through ``Image.draft`` (the decoder's own DCT scaling to 1/2, 1/4 or 1/8), anything else
decoded whole; then reduced by the smallest integer factor (a box filter, ``Image.reduce``) that
brings the long side to ``THUMB`` px or less. That decode also finds corruption the headers do
not show. A file that does not open or does not decode is a failure with its reason, never an
exception out of this module.

A record (the profile JSON's ``files`` items, ``skewcheck.profile/v1``)::

    {"path", "bytes", "status": ok | truncated | corrupt | not-an-image | empty | too-large | unreadable,
     "error": reason or None, "format", "mode", "bit_depth", "alpha", "width", "height",
     "exif_orientation": 1-8 or None, "icc": profile description or None, "cmyk",
     "progressive", "subsampling", "jpeg_quality", "jpeg_quality_exact", "animated", "frames",
     "decode": None (not decoded) | ok | truncated | corrupt | too-large,
     "pixels": {mean, std, brightness, contrast, saturated, blur} or None}

``status`` is the header pass's (exact on every file); ``decode`` the full decode's, on the
files of the pixel sample that opened.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from skewcheck.errors import one_line
from skewcheck.images.source import ImageFile
from skewcheck.profile.jpeg import estimate_quality, exif_orientation, fast_headers, scan_start, subsampling
from skewcheck.profile.pixels import THUMB, pixel_stats

ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
BITS = {"1": 1, "I": 32, "F": 32, "I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16}
HEAD = 64 * 1024  # a file this size or smaller is read whole, in one read
TAIL = 64 * 1024  # the window of the backward search for an end marker
_ICC_NAMES: dict[bytes, str] = {}  # profile bytes → description: a set shares a few profiles


def read_file(file: ImageFile, path: str, decode: bool = True) -> dict[str, Any]:
    """The record of ``file`` (named ``path`` in the profile); never raises for a bad image.
    ``decode``: also decode the pixels (status of the decode, pixel statistics)."""
    if isinstance(file, Path):
        try:
            fp = open(file, "rb")  # noqa: SIM115 (closed below, whatever happens)
        except OSError as exc:
            return _failed(path, 0, "unreadable", exc.strerror or one_line(exc))
        try:
            return _read_stream(fp, os.fstat(fp.fileno()).st_size, path, decode)
        finally:
            fp.close()
    try:
        data = file.read_bytes()  # an object store: one request for the whole object
    except OSError as exc:
        return _failed(path, 0, "unreadable", exc.strerror or one_line(exc))
    return read_bytes(data, path, decode)


def read_bytes(data: bytes, path: str, decode: bool = True) -> dict[str, Any]:
    return _read_stream(io.BytesIO(data), len(data), path, decode)


def _read_stream(fp: IO[bytes], size: int, path: str, decode: bool) -> dict[str, Any]:
    if not size:
        return _failed(path, 0, "empty", "zero-byte file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning, odd EXIF: the record says what matters
            return _read(fp, size, path, decode)
    except Exception as exc:  # noqa: BLE001 (a hostile file may make a plugin raise anything)
        return _failed(path, size, "corrupt", f"{type(exc).__name__}: {one_line(exc)}")


def _failed(path: str, size: int, status: str, reason: str) -> dict[str, Any]:
    return {"path": path, "bytes": size, "status": status, "error": reason}


def _read(fp: IO[bytes], size: int, path: str, decode: bool) -> dict[str, Any]:
    head = fp.read(HEAD)
    if not decode and head[:3] == b"\xff\xd8\xff":
        fast = _fast_jpeg(head, size, path, fp)
        if fast is not None:
            return fast
    whole = len(head) >= size
    source: IO[bytes] = io.BytesIO(head) if whole else fp  # a small file: one read, parsed in memory
    source.seek(0)
    try:
        im = Image.open(source)
    except UnidentifiedImageError:
        return _failed(path, size, "not-an-image", "no image format recognises it")
    except Image.DecompressionBombError as exc:
        return _failed(path, size, "too-large", one_line(exc))
    with im:
        record = _headers(im, head, size, path)
        cut = _cut_short(im.format, fp, head, size)
        record["status"], record["error"] = ("truncated", cut) if cut else ("ok", None)
        record["decode"], record["pixels"] = None, None
        if decode:
            status, error, rgb = _decode(im)
            record["decode"] = status
            if record["error"] is None:
                record["error"] = error
            record["pixels"] = pixel_stats(rgb) if rgb is not None else None
    return record


def _fast_jpeg(head: bytes, size: int, path: str, fp: IO[bytes]) -> dict[str, Any] | None:
    """The record of a JPEG from :func:`skewcheck.profile.jpeg.fast_headers` (the same fields as
    from Pillow, read several times faster); None where it cannot tell (Pillow reads it then)."""
    found = fast_headers(head)
    if found is None:
        return None
    orientation = exif_orientation(found["exif"]) if found["exif"] else None
    if orientation is False or (orientation is None and found["xmp"]):
        return None  # an odd EXIF layout, or an orientation Pillow would read from XMP
    quality = estimate_quality(found["quantization"])
    mode = found["mode"]
    width, height = found["size"]
    record = {
        "path": path,
        "bytes": size,
        "format": "JPEG",
        "mode": mode,
        "bit_depth": found["bits"],
        "alpha": False,
        "width": width,
        "height": height,
        "exif_orientation": orientation,
        "icc": _icc_name(found["icc"]) if found["icc"] else None,
        "cmyk": mode == "CMYK",
        "progressive": found["progressive"],
        "subsampling": subsampling(found["layers"]),
        "jpeg_quality": quality[0] if quality else None,
        "jpeg_quality_exact": quality[1] if quality else None,
        "animated": False,
        "frames": 1,
    }
    cut = None
    if not _found_after(fp, head, size, b"\xff\xd9", found["scan"]):
        cut = "truncated: no end-of-image marker after the scan (decoders differ on such a file)"
    record["status"], record["error"] = ("truncated", cut) if cut else ("ok", None)
    record["decode"], record["pixels"] = None, None
    return record


def _headers(im: Image.Image, head: bytes, size: int, path: str) -> dict[str, Any]:
    fmt = im.format or "unknown"
    jpeg = fmt in ("JPEG", "MPO")
    quality = estimate_quality(getattr(im, "quantization", None) or {}) if jpeg else None
    icc = im.info.get("icc_profile")
    return {
        "path": path,
        "bytes": size,
        "format": fmt,
        "mode": im.mode,
        "bit_depth": _bit_depth(im, head),
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


def _cut_short(fmt: str | None, fp: IO[bytes], head: bytes, size: int) -> str | None:
    """Why the file is cut short, from its head and tail (None: it is not, or its format has no
    end marker this checks; the decode of the pixel sample finds the rest)."""
    if fmt in ("JPEG", "MPO"):
        data = head
        pos = scan_start(data)
        while pos is None and len(data) < size:  # headers longer than HEAD: read on
            fp.seek(len(data))
            more = fp.read(max(HEAD, len(data)))
            if not more:
                break
            data += more
            pos = scan_start(data)
        if pos is None:
            return "truncated: the file ends before its first scan"
        if pos >= 0 and not _found_after(fp, data, size, b"\xff\xd9", pos):
            return "truncated: no end-of-image marker after the scan (decoders differ on such a file)"
        return None
    if fmt == "PNG" and not _found_after(fp, head, size, b"IEND", 8):
        return "truncated: no IEND chunk"
    if fmt == "WEBP" and head[:4] == b"RIFF" and size < int.from_bytes(head[4:8], "little") + 8:
        return f"truncated: {size:,} bytes of the {int.from_bytes(head[4:8], 'little') + 8:,} its RIFF header gives"
    return None


def _found_after(fp: IO[bytes], head: bytes, size: int, marker: bytes, start: int) -> bool:
    """Whether ``marker`` occurs at or after offset ``start``: searched backwards from the end,
    ``TAIL`` bytes at a time (one window for a whole file; the whole file only when it is not there)."""
    if len(head) >= size:
        return head.rfind(marker, start) != -1  # from the end: a whole file's marker is found at once
    end = size
    while end > start:
        begin = max(start, end - TAIL)
        fp.seek(begin)
        if fp.read(min(size, end + len(marker) - 1) - begin).rfind(marker) != -1:  # windows overlap by the marker
            return True
        end = begin
    return False


def _bit_depth(im: Image.Image, head: bytes) -> int:
    if im.format == "PNG" and len(head) > 24:
        return int(head[24])  # IHDR's bit depth: Pillow opens 16-bit RGB as 8-bit "RGB"
    if im.format == "JPEG":
        return int(getattr(im, "bits", 8))
    return BITS.get(im.mode, 8)


def _orientation(im: Image.Image) -> int | None:
    """EXIF 0x0112. A PNG's EXIF is read from its chunks before the image data (on every file
    alike): Pillow's ``getexif`` would decode the whole image to look for one after it."""
    if im.format == "PNG" and "exif" not in im.info:
        return None
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


def _draft_size(size: tuple[int, int]) -> tuple[int, int]:
    """What to ask ``Image.draft`` for (Pillow picks its DCT scaling from the requested size): the
    least scaling, 1/1, 1/2, 1/4 or 1/8, that brings the long side to ``THUMB`` px or less (else
    1/8, and ``Image.reduce`` does the rest). The entropy decoding costs the same at any scaling;
    the inverse DCT and the colour conversion shrink with it."""
    scale = 1
    while scale < 8 and -(-max(size) // scale) > THUMB:
        scale *= 2
    return max(1, size[0] // scale), max(1, size[1] // scale)


def _decode(im: Image.Image) -> tuple[str, str | None, np.ndarray | None]:
    """(status, reason, the RGB thumbnail or None)."""
    try:
        if im.format == "JPEG":
            im.draft("RGB" if im.mode != "L" else "L", _draft_size(im.size))
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
    return "ok", None, np.asarray(rgb_image.reduce(factor) if factor > 1 else rgb_image)  # box filter, integer factor
