"""Damaged and mislabelled files: truncated uploads, corrupted bytes, things that are not images.

A correct pipeline refuses most of these; the failure they reproduce is the one that accepts them
silently (a grey or smeared bottom half that trains or serves as if it were a real photo).
"""

from __future__ import annotations

from skewcheck.probes import encode
from skewcheck.probes.model import Base, GenContext, Probe

TRUNCATION_POINTS = (0.10, 0.50, 0.90)


def truncated_jpeg(base: Base, ctx: GenContext) -> list[Probe]:
    data = encode.jpeg(base.rgb, quality=95)
    start, end = encode.jpeg_scan_bounds(data)
    probes = []
    for fraction in TRUNCATION_POINTS:
        cut = start + int((end - start) * fraction)
        note = (
            f"JPEG cut after {fraction:.0%} of its entropy-coded data (byte {cut} of {len(data)}): "
            "an interrupted upload or download; lenient decoders (cv2.imread, Pillow with "
            "LOAD_TRUNCATED_IMAGES) fill the rest with grey"
        )
        probes.append(Probe(f"cut{round(fraction * 100):02d}.jpg", data[:cut], "reject", note, base=base.name))
    return probes


def truncated_jpeg_no_eoi(base: Base, ctx: GenContext) -> list[Probe]:
    data = encode.jpeg(base.rgb, quality=95)
    assert data.endswith(b"\xff\xd9")
    note = (
        "JPEG whose last two bytes (the EOI marker) are missing, all pixel data present: cv2.imread "
        "warns 'Premature end of JPEG file' and decodes it whole, Pillow raises 'image file is "
        "truncated' unless LOAD_TRUNCATED_IMAGES; both are defensible, a mismatch is skew"
    )
    return [Probe("jpg", data[:-2], "either", note, base=base.name)]


def truncated_png(base: Base, ctx: GenContext) -> list[Probe]:
    data = encode.png(base.rgb)
    cut = len(data) // 2
    note = f"PNG cut in the middle of its IDAT data (byte {cut} of {len(data)}): an interrupted transfer"
    return [Probe("png", data[:cut], "reject", note, base=base.name)]


CORRUPT_BYTES = 6


def corrupt_jpeg_entropy(base: Base, ctx: GenContext) -> list[Probe]:
    """Flip bits in a few bytes of the entropy-coded data, never creating or touching a 0xFF (so
    no marker appears or disappears: the file still parses, its pixels are wrong).

    The bytes are drawn from the positions that qualify (the middle half of the scan, or the whole
    scan when that is too short), so the work is bounded whatever the image: a 1×1 photo has only
    a few bytes of scan data, and gets fewer flipped bytes (none qualifying: no probe).
    """
    data = bytearray(encode.jpeg(base.rgb, quality=95))
    start, end = encode.jpeg_scan_bounds(bytes(data))
    rng = ctx.rng("corrupt-jpeg-entropy", base.name)

    def candidates(lo: int, hi: int) -> list[int]:
        lo, hi = max(lo, start + 1), min(hi, end - 1)  # pos - 1 and pos + 1 stay inside the scan
        return [p for p in range(lo, hi) if 0xFF not in (data[p - 1], data[p], data[p + 1])]

    pool = candidates(start + (end - start) // 4, start + 3 * (end - start) // 4)
    if len(pool) < CORRUPT_BYTES:
        pool = candidates(start, end)
    if not pool:
        return []
    flipped: list[int] = []  # a flip never makes a 0xFF, so neighbours of a flipped byte stay non-0xFF
    for pos in sorted(int(p) for p in rng.choice(pool, size=min(CORRUPT_BYTES, len(pool)), replace=False)):
        masks = [m for m in range(1, 256) if data[pos] ^ m != 0xFF]
        data[pos] ^= masks[int(rng.integers(0, len(masks)))]
        flipped.append(pos)
    note = (
        f"JPEG with {len(flipped)} byte{'s' if len(flipped) != 1 else ''} of entropy-coded data corrupted "
        f"(bytes {flipped}): most decoders warn and return smeared blocks without raising; decoders "
        "disagree on what they return"
    )
    return [Probe("jpg", bytes(data), "either", note, base=base.name)]


def png_as_jpg(base: Base, ctx: GenContext) -> list[Probe]:
    note = (
        "a PNG file named .jpg: content-sniffing decoders (Pillow, OpenCV, tf.io.decode_image) read it; "
        "decoders chosen by extension or tf.io.decode_jpeg fail"
    )
    return [Probe("jpg", encode.png(base.rgb), "same-as-base", note, base=base.name, tolerance={"max_abs": 0})]


def empty_file(ctx: GenContext) -> list[Probe]:
    note = "zero-byte file named .jpg: a failed write or an empty object in a bucket"
    return [Probe("jpg", b"", "reject", note)]


def text_as_jpg(ctx: GenContext) -> list[Probe]:
    text = (
        b"<html><head><title>404 Not Found</title></head>\n"
        b"<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\n"
    )
    note = "an HTML error page saved as .jpg: what a scraper stores when a download fails"
    return [Probe("jpg", text, "reject", note)]
