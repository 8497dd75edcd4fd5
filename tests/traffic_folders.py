"""Generated traffic folders for the profile tests: a known number of each kind of file, written
with Pillow, so every figure of the profile can be checked exactly."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
ADOBE_RGB = REPO / "skewcheck" / "data" / "icc" / "compatibleWithAdobeRGB1998.icc"

# kind → files of it in the production folder (20 files in all)
PRODUCTION = {"plain": 2, "exif6": 5, "cmyk": 3, "truncated": 2, "large": 4, "icc": 2, "rgba": 1, "text": 1}
REFERENCE_FILES = 40  # plain 320x240 JPEGs
RGBA = (10, 20, 30, 255)  # the RGBA PNG's one colour


def _photo(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    gradient = np.linspace(0, 200, w, dtype=np.float32)[None, :, None] * np.ones((h, 1, 3), np.float32)
    return Image.fromarray((gradient + rng.integers(0, 40, (h, w, 3))).astype(np.uint8))


def _jpeg(im: Image.Image, **kw: object) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85, **kw)
    return out.getvalue()


def write_production(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    n = 0

    def put(name: str, data: bytes) -> None:
        nonlocal n
        (folder / f"{n:02d}-{name}").write_bytes(data)
        n += 1

    exif = Image.Exif()
    exif[0x0112] = 6
    for _ in range(PRODUCTION["plain"]):
        put("plain.jpg", _jpeg(_photo(n)))
    for _ in range(PRODUCTION["exif6"]):
        put("exif6.jpg", _jpeg(_photo(n), exif=exif.tobytes()))
    for _ in range(PRODUCTION["cmyk"]):
        put("cmyk.jpg", _jpeg(_photo(n).convert("CMYK")))
    for _ in range(PRODUCTION["truncated"]):
        data = _jpeg(_photo(n))
        put("truncated.jpg", data[: len(data) // 2])
    for _ in range(PRODUCTION["large"]):
        put("large.jpg", _jpeg(_photo(n, (640, 480))))
    for _ in range(PRODUCTION["icc"]):
        put("icc.jpg", _jpeg(_photo(n), icc_profile=ADOBE_RGB.read_bytes()))
    out = io.BytesIO()
    Image.new("RGBA", (320, 240), RGBA).save(out, "PNG")
    put("rgba.png", out.getvalue())
    put("text.jpg", b"this is not an image\n")
    return folder


def write_reference(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(REFERENCE_FILES):
        (folder / f"{i:02d}.jpg").write_bytes(_jpeg(_photo(100 + i)))
    return folder
