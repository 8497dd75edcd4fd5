"""The properties a profile counts, each read from one file's record (skewcheck/profile/read_image.py).

Three families, each a table so that the profile, the drift, the flags and the traffic weights
of ``compare --traffic`` name them alike:

* **traits**: yes/no per file, counted over every file (a file that fails to decode is still
  traffic), e.g. ``exif_rotated``;
* **categories**: one value per file that opened (``format``, ``exif_orientation`` …);
  ``decode`` per file of the pixel sample;
* **numbers**: one value per file that has it (``width``; pixel statistics need a decode, so come
  from the pixel sample).

Every property is read from the headers of every file, but the pixel statistics and ``decode``
(and the part of ``decode_failure`` that only a full decode finds, which the summary extrapolates
from the sample).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Record = dict[str, Any]

GRAY_MODES = {"1", "L", "LA", "La", "I", "F", "I;16", "I;16B", "I;16L", "I;16N"}


def _opened(record: Record) -> bool:
    return "format" in record


def decode_failed(record: Record) -> bool:
    """The full decode of a file whose headers are whole failed (only files of the pixel sample
    are decoded: skewcheck/profile/read_image.py)."""
    return record["status"] == "ok" and record.get("decode") not in (None, "ok")


def failure(record: Record) -> tuple[str, str] | None:
    """(status, found by ``headers`` or ``decode``) of a file that fails, else None."""
    if record["status"] != "ok":
        return record["status"], "headers"
    return (record["decode"], "decode") if decode_failed(record) else None


# name → (what a file with it "carries", in a sentence; the rule)
TRAITS: dict[str, tuple[str, Callable[[Record], bool]]] = {
    "exif_rotated": ("carry EXIF orientation ≠ 1", lambda r: r.get("exif_orientation") not in (None, 1)),
    "icc_profile": ("embed an ICC profile", lambda r: r.get("icc") is not None),
    "icc_not_srgb": (
        "embed an ICC profile other than sRGB",
        lambda r: r.get("icc") is not None and "srgb" not in str(r["icc"]).lower(),
    ),
    "cmyk": ("are CMYK", lambda r: bool(r.get("cmyk"))),
    "alpha": ("have an alpha channel or transparency", lambda r: bool(r.get("alpha"))),
    "grayscale": ("are grayscale", lambda r: r.get("mode") in GRAY_MODES),
    "high_bit_depth": ("have more than 8 bits per sample", lambda r: (r.get("bit_depth") or 0) > 8),
    "progressive": ("are progressive JPEGs", lambda r: bool(r.get("progressive"))),
    "animated": ("are animated (several frames)", lambda r: bool(r.get("animated"))),
    # headers on every file, the full decode on the pixel sample (skewcheck/profile/summarise.py extrapolates)
    "decode_failure": ("fail to decode", lambda r: failure(r) is not None),
    "truncated": ("are truncated", lambda r: r.get("status") == "truncated"),
}


def _text(value: object) -> str:
    return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


CATEGORIES: dict[str, Callable[[Record], str | None]] = {
    "status": lambda r: r["status"],  # the header pass's, every file
    "decode": lambda r: r.get("decode"),  # the full decode's, the files of the pixel sample
    "format": lambda r: r["format"] if _opened(r) else None,
    "mode": lambda r: r["mode"] if _opened(r) else None,
    "bit_depth": lambda r: _text(r["bit_depth"]) if _opened(r) else None,
    "exif_orientation": lambda r: _text(r["exif_orientation"]) if _opened(r) else None,
    "icc": lambda r: _text(r["icc"]) if _opened(r) else None,
    "subsampling": lambda r: r.get("subsampling"),
    "progressive": lambda r: _text(r["progressive"]) if r.get("progressive") is not None else None,
}


def _pixel(key: str, channel: int | None = None) -> Callable[[Record], float | None]:
    def read(r: Record) -> float | None:
        pixels = r.get("pixels")
        if not pixels:
            return None
        value = pixels[key]
        return float(value[channel] if channel is not None else value)

    return read


NUMBERS: dict[str, tuple[str, Callable[[Record], float | None]]] = {  # name → (unit, rule)
    "width": ("px", lambda r: r.get("width")),
    "height": ("px", lambda r: r.get("height")),
    "aspect": ("width/height", lambda r: r["width"] / r["height"] if r.get("height") else None),
    "megapixels": ("MP", lambda r: r["width"] * r["height"] / 1e6 if "width" in r else None),
    "bytes": ("bytes", lambda r: r["bytes"]),
    "jpeg_quality": ("IJG quality", lambda r: r.get("jpeg_quality")),
    "brightness": ("0-255", _pixel("brightness")),
    "contrast": ("0-255", _pixel("contrast")),
    "saturated": ("share", _pixel("saturated")),
    "blur": ("Laplacian variance", _pixel("blur")),
    **{f"mean_{c}": ("0-255", _pixel("mean", i)) for i, c in enumerate("rgb")},
    **{f"std_{c}": ("0-255", _pixel("std", i)) for i, c in enumerate("rgb")},
}

# the numbers measured on a decode (None without one: a file outside the pixel sample)
PIXEL_NUMBERS = frozenset(
    ("brightness", "contrast", "saturated", "blur", *(f"{s}_{c}" for s in ("mean", "std") for c in "rgb"))
)
