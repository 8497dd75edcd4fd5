"""One file's profile record: what its headers say (every file), and statistics of a thumbnail
decode (the files of the pixel sample).

**Headers** (every file, below the cost of ``Image.open`` and ``getexif``): the file is opened
once. A JPEG's headers are read by :func:`skewcheck.profile.jpeg.fast_headers` from its first
``FIRST`` bytes (``HEAD`` where its headers are longer), in one ``read``, and its end-of-image
marker from its last ``END`` bytes (``pread``); anything else is opened by Pillow, which reads
lazily, so format, mode, size, EXIF, ICC, JPEG tables and sampling come from the headers alone. A
file of more than ``HEAD`` bytes is never read whole: whether it is cut short is read from its
tail (a JPEG's end-of-image marker after its first scan, a PNG's ``IEND``, a WebP's RIFF length),
searching backwards from the end, ``END`` bytes and then a ``TAIL``-sized window at a time. ICC
profile descriptions are parsed once per distinct profile, JPEG quality estimated once per
distinct set of quantization tables.

**Decode** (``decode=True``: the files the pixel sample drew): the pixels are decoded once, small:
a JPEG through ``Image.draft`` (the decoder's own DCT scaling to 1/2, 1/4 or 1/8, the most that
leaves the long side at ``THUMB`` px or more), anything else decoded whole; then resized with a box
filter to a long side of exactly ``THUMB`` px (a smaller image is measured as it is), so that the
statistics, ``blur`` above all, are measured at one scale on every file. That decode also finds
corruption the headers do not show. A file that does not open or does not decode is a failure with its reason, never an
exception out of this module.

A record (the profile JSON's ``files`` items, ``skewcheck.profile/v2``)::

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
import os
import stat
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from skewcheck.errors import one_line
from skewcheck.images.source import ImageFile
from skewcheck.profile.jpeg import (
    dqt_quality,
    estimate_quality,
    exif_orientation,
    fast_headers,
    scan_start,
    subsampling,
)
from skewcheck.profile.pixels import THUMB, pixel_stats

ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
BITS = {"1": 1, "I": 32, "F": 32, "I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16}
FIRST = 16 * 1024  # what the header pass reads first of a JPEG: its headers, mostly
HEAD = 64 * 1024  # a file this size or smaller is read whole, in one read (Pillow's formats)
END = 1024  # the first window of the backward search for an end marker (it is mostly the last bytes)
TAIL = 64 * 1024  # the next windows of that search
_ICC_NAMES: dict[bytes, str] = {}  # profile bytes → description: a set shares a few profiles


def read_file(file: ImageFile | str, path: str, decode: bool = True) -> dict[str, Any]:
    """The record of ``file`` (a local path as a string too; named ``path`` in the profile);
    never raises for a bad image. ``decode``: also decode the pixels (status of the decode, pixel
    statistics)."""
    if isinstance(file, (str, Path)):
        try:
            fd = os.open(file, os.O_RDONLY)
        except OSError as exc:
            return _failed(path, 0, "unreadable", exc.strerror or one_line(exc))
        try:
            if not decode:
                record = _read_headers(fd, path)
                if record is not None:
                    return record
                os.lseek(fd, 0, os.SEEK_SET)
            try:
                fp = open(fd, "rb", closefd=False)  # noqa: SIM115 (closed below; a folder raises here)
            except OSError as exc:
                return _failed(path, 0, "unreadable", exc.strerror or one_line(exc))
            with fp:
                return _read_stream(fp, os.fstat(fd).st_size, path, decode)
        finally:
            os.close(fd)
    try:
        data = file.read_bytes()  # an object store: one request for the whole object
    except OSError as exc:
        return _failed(path, 0, "unreadable", exc.strerror or one_line(exc))
    return read_bytes(data, path, decode)


def _read_headers(fd: int, path: str) -> dict[str, Any] | None:
    """The header pass's record of a regular file's JPEG, from one ``read`` of its first bytes and
    one ``pread`` of its last; None for anything else (read as a stream then, from the start)."""
    info = os.fstat(fd)
    size = info.st_size
    if not stat.S_ISREG(info.st_mode) or not size:
        return None
    head = os.read(fd, FIRST)
    if head[:3] != b"\xff\xd8\xff":
        return None
    try:
        found = fast_headers(head)
        if found is None and len(head) < size:  # headers longer than FIRST, or not read here
            head += os.read(fd, HEAD - len(head))
            found = fast_headers(head)
        return _fast_jpeg(found, head, size, path, lambda at, n: os.pread(fd, n, at)) if found is not None else None
    except Exception:  # noqa: BLE001 (whatever it is, the stream reader says it as it always has)
        return None


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
        found = fast_headers(head)
        fast = _fast_jpeg(found, head, size, path, _reader_at(fp)) if found is not None else None
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


ReadAt = Callable[[int, int], bytes]  # (offset, count) → the bytes there


def _reader_at(fp: IO[bytes]) -> ReadAt:
    def read_at(offset: int, count: int) -> bytes:
        fp.seek(offset)
        return fp.read(count)

    return read_at


def _fast_jpeg(found: dict[str, Any], head: bytes, size: int, path: str, read_at: ReadAt) -> dict[str, Any] | None:
    """The record of a JPEG from what :func:`skewcheck.profile.jpeg.fast_headers` found in its
    ``head`` (the same fields as from Pillow, read several times faster); None where it cannot
    tell (Pillow reads it then)."""
    orientation = exif_orientation(found["exif"]) if found["exif"] else None
    if orientation is False or (orientation is None and found["xmp"]):
        return None  # an odd EXIF layout, or an orientation Pillow would read from XMP
    quality = dqt_quality(found)
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
        "subsampling": found["subsampling"],
        "jpeg_quality": quality[0] if quality else None,
        "jpeg_quality_exact": quality[1] if quality else None,
        "animated": False,
        "frames": 1,
    }
    cut = None
    if not _found_after(read_at, head, size, b"\xff\xd9", found["scan"]):
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
        if pos >= 0 and not _found_after(_reader_at(fp), data, size, b"\xff\xd9", pos):
            return "truncated: no end-of-image marker after the scan (decoders differ on such a file)"
        return None
    if fmt == "PNG" and not _found_after(_reader_at(fp), head, size, b"IEND", 8):
        return "truncated: no IEND chunk"
    if fmt == "WEBP" and head[:4] == b"RIFF" and size < int.from_bytes(head[4:8], "little") + 8:
        return f"truncated: {size:,} bytes of the {int.from_bytes(head[4:8], 'little') + 8:,} its RIFF header gives"
    return None


def _found_after(read_at: ReadAt, head: bytes, size: int, marker: bytes, start: int) -> bool:
    """Whether ``marker`` occurs at or after offset ``start``: searched backwards from the end,
    ``END`` bytes and then ``TAIL`` bytes at a time (one window for a whole file; the whole file
    only when it is not there)."""
    if len(head) >= size:
        return head.rfind(marker, start) != -1  # from the end: a whole file's marker is found at once
    end, window = size, END
    while end > start:
        begin = max(start, end - window)
        if (
            read_at(begin, min(size, end + len(marker) - 1) - begin).rfind(marker) != -1
        ):  # windows overlap by the marker
            return True
        end, window = begin, TAIL
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
        from PIL import ImageCms  # littlecms: loaded by the first profile met, not by every start

        try:
            name = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip() or "unnamed"
        except Exception:  # noqa: BLE001 (littlecms refuses a malformed profile)
            name = "unreadable profile"
        if len(_ICC_NAMES) < 256:
            _ICC_NAMES[icc] = name
    return name


def _draft_size(size: tuple[int, int]) -> tuple[int, int]:
    """What to ask ``Image.draft`` for (Pillow picks its DCT scaling from the requested size): the
    most scaling, 1/8, 1/4, 1/2 or 1/1, that leaves the long side at ``THUMB`` px or more (the
    working size is then made exactly, by :func:`_working_image`). The entropy decoding costs the
    same at any scaling; the inverse DCT and the colour conversion shrink with it."""
    scale = 8
    while scale > 1 and -(-max(size) // scale) < THUMB:
        scale //= 2
    return max(1, size[0] // scale), max(1, size[1] // scale)


def _working_image(rgb_image: Image.Image) -> Image.Image:
    """The image the statistics are measured on: its long side made exactly ``THUMB`` px (a box
    filter, the same for every file whatever its size, so that ``blur`` compares images at one
    scale); an image no larger than that as it is."""
    width, height = rgb_image.size
    long_side = max(width, height)
    if long_side <= THUMB:
        return rgb_image
    size = (max(1, round(width * THUMB / long_side)), max(1, round(height * THUMB / long_side)))
    return rgb_image.resize(size, Image.Resampling.BOX)


def _decode(im: Image.Image) -> tuple[str, str | None, np.ndarray | None]:
    """(status, reason, the RGB working image or None)."""
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
    rgb_image = im if im.mode == "RGB" else im.convert("RGB")  # a JPEG is already small here (its draft)
    return "ok", None, np.asarray(_working_image(rgb_image))
