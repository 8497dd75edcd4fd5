"""The catalogue: every probe kind, registered in one place, in the order ``--list`` prints."""

from __future__ import annotations

from skewcheck.errors import UsageError
from skewcheck.probes import (
    gen_clean,
    gen_color,
    gen_damaged,
    gen_formats,
    gen_synthetic,
)
from skewcheck.probes.model import CATEGORIES, Kind

KINDS: list[Kind] = [
    # clean
    Kind("clean-jpeg-q95", "clean", "baseline JPEG, quality 95, 4:2:0", gen_clean.jpeg_q95, True),
    Kind("clean-jpeg-q75", "clean", "baseline JPEG, quality 75 (web uploads)", gen_clean.jpeg_q75, True),
    Kind("clean-jpeg-progressive", "clean", "progressive JPEG, quality 90", gen_clean.jpeg_progressive, True),
    Kind(
        "clean-jpeg-420",
        "clean",
        "JPEG quality 90, chroma 4:2:0 (upsampling differs by decoder)",
        gen_clean.jpeg_420,
        True,
    ),
    Kind("clean-jpeg-444", "clean", "JPEG quality 90, chroma 4:4:4 (IDCT differences only)", gen_clean.jpeg_444, True),
    Kind("clean-png", "clean", "8-bit RGB PNG, lossless", gen_clean.png, True),
    # truncated
    Kind(
        "truncated-jpeg", "truncated", "JPEG cut at 10%, 50% and 90% of its scan data", gen_damaged.truncated_jpeg, True
    ),
    Kind(
        "truncated-jpeg-no-eoi",
        "truncated",
        "JPEG missing only its EOI marker",
        gen_damaged.truncated_jpeg_no_eoi,
        True,
    ),
    Kind("truncated-png", "truncated", "PNG cut in the middle of its IDAT data", gen_damaged.truncated_png, True),
    # corrupt
    Kind(
        "corrupt-jpeg-entropy",
        "corrupt",
        "JPEG with corrupted entropy-coded bytes",
        gen_damaged.corrupt_jpeg_entropy,
        True,
    ),
    Kind("png-as-jpg", "corrupt", "a PNG file named .jpg", gen_damaged.png_as_jpg, True),
    Kind("empty-file", "corrupt", "a zero-byte .jpg", gen_damaged.empty_file, False),
    Kind("text-as-jpg", "corrupt", "an HTML error page named .jpg", gen_damaged.text_as_jpg, False),
    # icc
    Kind(
        "icc-adobe-rgb",
        "icc",
        "pixels in Adobe RGB (1998), profile embedded (JPEG and PNG)",
        gen_color.icc_adobe_rgb,
        True,
    ),
    Kind(
        "icc-prophoto-rgb",
        "icc",
        "pixels in ProPhoto RGB, profile embedded (JPEG and PNG)",
        gen_color.icc_prophoto_rgb,
        True,
    ),
    # exif
    *(
        Kind(
            f"exif-orientation-{n}",
            "exif",
            f"EXIF Orientation={n}, pixels stored {gen_color.ORIENTATION_STORE[n][0]}",
            gen_color.orientation_generator(n),
            True,
        )
        for n in range(2, 9)
    ),
    # format
    Kind("grayscale", "format", "single-channel (L) JPEG", gen_formats.grayscale, True),
    Kind("png-16bit", "format", "16-bit-per-channel RGB PNG", gen_formats.png_16bit, True),
    Kind("cmyk-jpeg", "format", "CMYK JPEG (Adobe, inverted)", gen_formats.cmyk_jpeg, True),
    Kind("webp", "format", "lossy WebP, quality 90", gen_formats.webp, True),
    Kind("bmp", "format", "24-bit BMP", gen_formats.bmp, True),
    Kind("tiff", "format", "Deflate-compressed RGB TIFF", gen_formats.tiff, True),
    Kind("palette", "format", "palette (P) PNG, exact colours", gen_formats.palette, False),
    Kind("gif-multiframe", "format", "3-frame GIF, first frame is the base", gen_formats.gif_multiframe, False),
    # alpha
    Kind("rgba", "alpha", "RGBA PNG whose transparent pixels hide the base's RGB", gen_formats.rgba_png, True),
    Kind(
        "alpha-sentinel",
        "alpha",
        "RGBA sentinel: drop / white / black compositing all differ",
        gen_formats.alpha_sentinel_probe,
        False,
    ),
    Kind(
        "palette-transparency",
        "alpha",
        "palette PNG with a transparent palette entry (tRNS)",
        gen_formats.palette_transparency,
        False,
    ),
    # size
    Kind("size-1x1", "size", "a 1x1 image", gen_synthetic.size_1x1, False),
    Kind("size-extreme-aspect", "size", "4000x8 and 8x4000 images", gen_synthetic.size_extreme_aspect, False),
    Kind(
        "size-decompression-bomb",
        "size",
        "13400x13400 PNG of 21 KiB: trips decompression-bomb guards",
        gen_synthetic.size_decompression_bomb,
        False,
    ),
    # sentinel
    Kind(
        "sentinel-channel-order",
        "sentinel",
        "asymmetric red/green/blue blocks: RGB<->BGR cannot cancel",
        gen_synthetic.sentinel_channel_order,
        False,
    ),
    Kind(
        "sentinel-resize",
        "sentinel",
        "zone plate and circle: resize filters and antialiasing differ",
        gen_synthetic.sentinel_resize,
        False,
    ),
]

KINDS_BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}
assert len(KINDS_BY_NAME) == len(KINDS), "duplicate kind name"
assert all(kind.category in CATEGORIES for kind in KINDS)


def register_kind(kind: Kind) -> None:
    """Add a probe kind (listed by ``--list``, written by ``probe-images``, selectable by name or category)."""
    if kind.name in KINDS_BY_NAME:
        raise ValueError(f"probe kind {kind.name!r} is registered already")
    if kind.category not in CATEGORIES:
        raise ValueError(
            f"probe kind {kind.name!r}: unknown category {kind.category!r} (one of {', '.join(CATEGORIES)})"
        )
    KINDS.append(kind)
    KINDS_BY_NAME[kind.name] = kind


def select_kinds(names: list[str] | None) -> list[Kind]:
    """Kinds matching ``names`` (kind names or category names), in catalogue order; all if None.

    Raises UsageError on an unknown name, listing the categories so the user can recover.
    """
    if not names:
        return list(KINDS)
    wanted: set[str] = set()
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name in KINDS_BY_NAME:
            wanted.add(name)
        elif name in CATEGORIES:
            wanted.update(kind.name for kind in KINDS if kind.category == name)
        else:
            raise UsageError(
                f"unknown probe kind or category {name!r} (categories: {', '.join(CATEGORIES)}; "
                "`skewcheck probe-images --list` shows every kind)"
            )
    if not wanted:
        raise UsageError("--kinds: no kind given")
    return [kind for kind in KINDS if kind.name in wanted]
