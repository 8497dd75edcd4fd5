"""What a JPEG's headers say: estimated quality, chroma subsampling, whether its scans end.

Quality is estimated from the luminance (and chrominance) quantization tables by inverting the
IJG (libjpeg) scaling: for quality q, ``scale = 5000 / q`` below 50 and ``200 - 2q`` from 50, and
each entry is ``clamp((base * scale + 50) // 100, 1, 255)`` of the standard table (libjpeg's
``jcparam.c``, Annex K of the JPEG standard). The estimate is the q whose scaled tables are
closest to the file's (sum of absolute differences); ``exact`` says the tables are IJG's own at
that quality (Pillow, libjpeg, OpenCV, most cameras' firmware use other tables and are then
only approximated).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from PIL import Image
from PIL.JpegImagePlugin import zigzag_index

# The standard tables of Annex K, in natural (row-major) order, as Pillow's ``quantization`` gives them.
LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
CHROMINANCE = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
)  # fmt: skip


def _ijg_tables(base: tuple[int, ...]) -> np.ndarray:
    """(100, 64): the table libjpeg writes at quality 1..100."""
    q = np.arange(1, 101, dtype=np.int64)[:, None]
    scale = np.where(q < 50, 5000 // q, 200 - 2 * q)
    return np.clip((np.asarray(base, dtype=np.int64)[None, :] * scale + 50) // 100, 1, 255)


_LUMA = _ijg_tables(LUMINANCE)
_CHROMA = _ijg_tables(CHROMINANCE)


_ESTIMATES: dict[tuple[tuple[int, ...], ...], tuple[int, bool]] = {}  # a set shares a few encoders' tables


def estimate_quality(tables: dict[int, Any]) -> tuple[int, bool] | None:
    """(estimated IJG quality 1-100, whether the tables are exactly IJG's at it), None without tables."""
    if not tables or 0 not in tables or len(tables[0]) != 64:
        return None
    key = tuple(tuple(tables[i]) for i in (0, 1) if i in tables)
    found = _ESTIMATES.get(key)
    if found is None:
        found = _estimate(tables)
        if len(_ESTIMATES) < 1024:
            _ESTIMATES[key] = found
    return found


def _estimate(tables: dict[int, Any]) -> tuple[int, bool]:
    error = np.abs(_LUMA - np.asarray(tables[0], dtype=np.int64)[None, :]).sum(axis=1)
    if 1 in tables and len(tables[1]) == 64:
        error = error + np.abs(_CHROMA - np.asarray(tables[1], dtype=np.int64)[None, :]).sum(axis=1)
    best = int(np.argmin(error))  # ties go to the lower quality
    return best + 1, bool(error[best] == 0)


def subsampling(layers: list[tuple[Any, int, int, int]] | None) -> str | None:
    """``4:4:4``, ``4:2:2``, ``4:2:0``, ``4:1:1``, or ``HxV`` of the first component for another
    layout; None for a one-component (grayscale) JPEG. ``layers`` is Pillow's ``im.layer``:
    (component id, horizontal, vertical, table) per component."""
    if not layers or len(layers) < 3:
        return None
    h0, v0 = layers[0][1], layers[0][2]
    if any((h, v) != (1, 1) for _, h, v, _ in layers[1:]):
        return f"{h0}x{v0},{'+'.join(f'{h}x{v}' for _, h, v, _ in layers[1:])}"
    return {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (4, 1): "4:1:1", (1, 2): "4:4:0"}.get(
        (h0, v0), f"{h0}x{v0}"
    )


_STANDALONE = frozenset((0x01, *range(0xD0, 0xD8)))  # markers without a length


def scan_start(data: bytes) -> int | None:
    """The offset of the first start-of-scan marker (FF DA) in ``data``, a JPEG's first bytes;
    -1 where a marker should be and is not (corrupt: the decode says so); None when ``data`` ends
    before it (the file is cut short, or more of it must be read).

    The markers before the first scan are walked by their lengths, which skip an embedded EXIF
    thumbnail (it carries an FF D9 of its own).
    """
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return -1
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the entropy-coded data follows
            return pos
        if marker in _STANDALONE:
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def missing_end(data: bytes) -> bool:
    """True when no end-of-image marker (FF D9) follows the first scan: the file was cut short.

    Bytes after a final FF D9 (some phones append data) are not a truncation. (The profile reads
    only a file's head and tail for this: skewcheck/profile/read_image.py.)
    """
    pos = scan_start(data)
    if pos is None:
        return True  # the headers end before any scan
    if pos < 0:
        return False  # not a marker where one should be: corrupt, which the decode reports
    return data.rfind(b"\xff\xd9", pos) == -1


_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
_SOF = {0xC0: False, 0xC1: False, 0xC2: True}  # the frame types read here: progressive or not
_OTHER_SOF = frozenset((0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"


def fast_headers(data: bytes) -> dict[str, Any] | None:
    """What Pillow's JPEG ``open`` reads, read from a JPEG's first bytes in one walk over its
    markers (Pillow's is several times slower): ``mode``, ``bits``, ``size``, ``progressive``,
    ``layers`` (Pillow's ``layer``), ``subsampling`` (of the layers), ``quantization`` (natural
    order), ``dqt`` (the bytes of the DQT segments, joined: the key :func:`dqt_quality` caches the
    estimate by), ``exif`` (the first Exif APP1's bytes), ``icc`` (the ICC profile's chunks joined
    as Pillow joins them), ``scan`` (the offset of the first scan). None for anything this does not
    read exactly as Pillow does (an MPO, XMP without an EXIF orientation, an unusual frame type,
    junk between markers, headers longer than ``data`` …): the caller asks Pillow then.
    tests/profiling/test_profile.py checks both agree.

    The quantization tables and the frame's components are parsed once per distinct bytes (a data
    set shares a few encoders' tables and layouts; parsing them was most of this function's time).
    (Over 80 lines on purpose: one loop over the markers, on the profile's per-file hot path, where
    a call per marker kind cost more than the branch.)"""
    if data[:3] != b"\xff\xd8\xff":
        return None
    pos, n = 2, len(data)
    found: dict[str, Any] = {"exif": None, "icc": None, "progressive": False, "xmp": False}
    icc: list[bytes] = []
    dqt: list[bytes] = []
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        end = pos + 2 + ((data[pos + 2] << 8) | data[pos + 3])
        if end > n or end < pos + 4:
            return None
        if marker == 0xDA:
            width, height = found.get("size", (0, 0))
            if not width or not height or (Image.MAX_IMAGE_PIXELS and width * height > 2 * Image.MAX_IMAGE_PIXELS):
                return None  # no frame header, or Pillow's decompression-bomb error
            key = b"".join(dqt)
            tables = _TABLES.get(key)
            if tables is None:
                tables = _dqt_tables(key)
                if tables is None:
                    return None
                if len(_TABLES) < 1024:
                    _TABLES[key] = tables
            found["quantization"], found["dqt"], found["scan"] = dict(tables), key, pos
            return found
        if marker == 0xDB:
            dqt.append(data[pos + 4 : end])
        elif marker in _SOF:
            segment = data[pos + 4 : end]
            if "mode" in found or len(segment) < 6 or segment[0] != 8 or segment[5] not in _MODES:
                return None
            found["bits"], found["mode"] = 8, _MODES[segment[5]]
            found["size"] = ((segment[3] << 8) | segment[4], (segment[1] << 8) | segment[2])
            found["progressive"] = _SOF[marker]
            components = _COMPONENTS.get(segment[6:])
            if components is None:
                triples = [segment[i : i + 3] for i in range(6, len(segment), 3)]
                layers = [(t[0], t[1] // 16, t[1] & 15, t[2]) for t in triples if len(t) == 3]
                if len(layers) != (len(segment) - 6 + 2) // 3:
                    return None
                components = layers, subsampling(layers)
                if len(_COMPONENTS) < 1024:
                    _COMPONENTS[segment[6:]] = components
            found["layers"], found["subsampling"] = components
            if icc:
                icc.sort()
                found["icc"] = b"".join(p[14:] for p in icc) if icc[0][13] == len(icc) else None
        elif marker in _OTHER_SOF:
            return None
        elif marker == 0xE1:
            if data.startswith(b"Exif\x00\x00", pos + 4, end):
                if found["exif"] is None:
                    found["exif"] = data[pos + 4 : end]
            elif data.startswith(_XMP, pos + 4, end):
                found["xmp"] = True
        elif marker == 0xE2:
            if data.startswith(b"ICC_PROFILE\x00", pos + 4, end):
                if "mode" in found or end - pos - 4 < 14:
                    return None  # Pillow joins the chunks it has met at the frame header
                icc.append(data[pos + 4 : end])
            elif data.startswith(b"MPF\x00", pos + 4, end):
                return None  # perhaps an MPO
        pos = end
    return None  # no scan within ``data``


# SOF components → (layers, subsampling)
_COMPONENTS: dict[bytes, tuple[list[tuple[int, int, int, int]], str | None]] = {}
_TABLES: dict[bytes, dict[int, list[int]]] = {}  # DQT bytes → tables (a set shares a few encoders' tables)
_DQT_ESTIMATES: dict[bytes, tuple[int, bool] | None] = {}


def _dqt_tables(segments: bytes) -> dict[int, list[int]] | None:
    """The tables of DQT segments (their bytes, joined: each table says its own length), in
    natural order, as Pillow reads them (a later table of the same id replaces an earlier one);
    None where a table is cut short."""
    tables: dict[int, list[int]] = {}
    rest = segments
    while rest:
        wide = rest[0] // 16 != 0
        length = 1 + (2 if wide else 1) * 64
        if len(rest) < length:
            return None
        values = [int.from_bytes(rest[1 + 2 * i : 3 + 2 * i], "big") for i in range(64)] if wide else rest[1:length]
        tables[rest[0] & 15] = [values[i] for i in zigzag_index]
        rest = rest[length:]
    return tables


def dqt_quality(found: dict[str, Any]) -> tuple[int, bool] | None:
    """:func:`estimate_quality` of what :func:`fast_headers` found, cached by the DQT bytes."""
    key = found["dqt"]
    if key in _DQT_ESTIMATES:
        return _DQT_ESTIMATES[key]
    quality = estimate_quality(found["quantization"])
    if len(_DQT_ESTIMATES) < 1024:
        _DQT_ESTIMATES[key] = quality
    return quality


def exif_orientation(exif: bytes) -> int | None | bool:
    """Tag 0x0112 of IFD0 of an Exif APP1 (``Exif\\0\\0`` and a TIFF structure): its value, None
    when IFD0 has no such tag, False when this cannot tell (an odd type or layout: ask Pillow)."""
    tiff = exif[6:]
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return False
    order: Literal["little", "big"] = "little" if tiff[:2] == b"II" else "big"
    offset = int.from_bytes(tiff[4:8], order)
    if offset + 2 > len(tiff):
        return False
    count = int.from_bytes(tiff[offset : offset + 2], order)
    if offset + 2 + 12 * count > len(tiff):
        return False
    for i in range(count):
        entry = tiff[offset + 2 + 12 * i : offset + 14 + 12 * i]
        if int.from_bytes(entry[:2], order) == 0x0112:
            kind, number = int.from_bytes(entry[2:4], order), int.from_bytes(entry[4:8], order)
            if kind == 3 and number == 1:
                return int.from_bytes(entry[8:10], order)
            return False
    return None
