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

from typing import Any

import numpy as np

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


def estimate_quality(tables: dict[int, Any]) -> tuple[int, bool] | None:
    """(estimated IJG quality 1-100, whether the tables are exactly IJG's at it), None without tables."""
    if not tables or 0 not in tables or len(tables[0]) != 64:
        return None
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
        if marker in (0x01, *range(0xD0, 0xD8)):  # standalone markers
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
