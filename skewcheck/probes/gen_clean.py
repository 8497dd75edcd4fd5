"""Clean encodings of a base: what a correct decoder must reproduce within a small tolerance."""

from __future__ import annotations

from skewcheck.probes import encode
from skewcheck.probes.model import Base, GenContext, Probe


def _jpeg_probe(base: Base, note: str, **options: object) -> list[Probe]:
    data = encode.jpeg(base.rgb, **options)  # type: ignore[arg-type]
    tolerance = encode.lossy_tolerance(base.rgb, data)
    return [Probe("jpg", data, "same-as-base", note, base=base.name, tolerance=tolerance)]


def jpeg_q95(base: Base, ctx: GenContext) -> list[Probe]:
    return _jpeg_probe(base, "baseline JPEG, quality 95, 4:2:0 (Pillow's default subsampling)", quality=95)


def jpeg_q75(base: Base, ctx: GenContext) -> list[Probe]:
    return _jpeg_probe(base, "baseline JPEG, quality 75, 4:2:0: typical of web uploads", quality=75)


def jpeg_progressive(base: Base, ctx: GenContext) -> list[Probe]:
    return _jpeg_probe(
        base,
        "progressive JPEG, quality 90, 4:2:0: several scans, as browsers and CDNs write",
        quality=90,
        progressive=True,
    )


def jpeg_420(base: Base, ctx: GenContext) -> list[Probe]:
    return _jpeg_probe(
        base,
        "JPEG quality 90, chroma subsampled 4:2:0: decoders differ in chroma upsampling",
        quality=90,
        subsampling="4:2:0",
    )


def jpeg_444(base: Base, ctx: GenContext) -> list[Probe]:
    return _jpeg_probe(
        base,
        "JPEG quality 90, no chroma subsampling (4:4:4): isolates IDCT differences",
        quality=90,
        subsampling="4:4:4",
    )


def png(base: Base, ctx: GenContext) -> list[Probe]:
    note = "8-bit RGB PNG, no metadata: lossless, every decoder must give the base exactly"
    return [Probe("png", encode.png(base.rgb), "same-as-base", note, base=base.name, tolerance={"max_abs": 0})]
