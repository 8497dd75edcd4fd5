"""Encoders and measurements shared by the generators (Pillow, NumPy and zlib only).

Every encoder here is deterministic: no timestamps, no random palettes, no optimiser passes whose
output depends on anything but the pixels.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from typing import Any

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Added to the measured encoding error of lossy probes: what a different but correct decoder
#: may add (another IDCT, chroma upsampling, CMS rounding). Measured on the bundled bases,
#: libjpeg-turbo's and OpenCV's decodes differ by well under this.
DECODER_ALLOWANCE_MEAN = 1.0


def save(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def rgb_image(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")


def jpeg(rgb: np.ndarray, *, quality: int, subsampling: str = "4:2:0", **options: Any) -> bytes:
    return save(rgb_image(rgb), "JPEG", quality=quality, subsampling=subsampling, **options)


def png(image: Image.Image | np.ndarray, **options: Any) -> bytes:
    if isinstance(image, np.ndarray):
        image = rgb_image(image)
    return save(image, "PNG", **options)


def decode_rgb(data: bytes) -> np.ndarray:
    """Plain Pillow decode to 8-bit RGB: no EXIF, no ICC. Used to measure encoding error only."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


def lossy_tolerance(encoded_from: np.ndarray, data: bytes) -> dict[str, float]:
    """``mean_abs`` bound for a lossy file: its measured encoding error plus a decoder allowance.

    The error is measured between the pixels that were encoded and a plain decode of the bytes,
    i.e. in the stored space, so the bound does not depend on the property being probed
    (orientation, say): a probe whose transform were wrong would still fail it.
    """
    return measured_tolerance(encoded_from, decode_rgb(data), lossless=False)


def measured_tolerance(expected: np.ndarray, decoded: np.ndarray, *, lossless: bool) -> dict[str, float]:
    """Bounds from a measured error: mean + allowance, and for lossless files max + 4 levels."""
    diff = np.abs(expected.astype(np.int16) - decoded.astype(np.int16))
    tolerance: dict[str, float] = {"mean_abs": math.ceil((float(diff.mean()) + DECODER_ALLOWANCE_MEAN) * 10) / 10}
    if lossless:
        tolerance["max_abs"] = int(diff.max()) + 4
    return tolerance


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_from_rows(width: int, height: int, bit_depth: int, color_type: int, rows: Any) -> bytes:
    """A minimal PNG (IHDR, one IDAT, IEND) from an iterable of filtered scanlines, each starting
    with its filter-type byte.

    Written by hand because Pillow cannot write 16-bit RGB, and because the decompression-bomb
    probe must be streamed: its pixels never exist in memory.
    """
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for row in rows]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", b"".join(parts)) + png_chunk(b"IEND", b"")


def png_rgb16(rgb: np.ndarray) -> bytes:
    """16-bit-per-channel RGB PNG whose high bytes are ``rgb`` (value v stored as v * 257).

    Rows use PNG's Sub filter (byte minus the same byte of the previous pixel, 6 bytes back).
    """
    height, width = rgb.shape[:2]
    wide = (rgb.astype(np.uint16) * np.uint16(257)).astype(">u2")  # PNG samples are big-endian
    raw = np.ascontiguousarray(wide).reshape(height, width * 3).view(np.uint8)
    sub = raw.copy()
    sub[:, 6:] = raw[:, 6:] - raw[:, :-6]  # uint8 arithmetic wraps modulo 256, as PNG requires
    return png_from_rows(width, height, 16, 2, (b"\x01" + sub[y].tobytes() for y in range(height)))


def jpeg_scan_bounds(data: bytes) -> tuple[int, int]:
    """(start, end) of the entropy-coded data of a single-scan JPEG: after SOS, before EOI."""
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise ValueError("not a JPEG marker sequence")
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xDA:  # start of scan: entropy data follows its header
            start = pos + 2 + length
            end = data.rfind(b"\xff\xd9")
            return start, end
        pos += 2 + length
    raise ValueError("no SOS marker")
