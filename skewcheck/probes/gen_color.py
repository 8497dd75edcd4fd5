"""Metadata that changes what the pixels mean: embedded ICC profiles and EXIF orientation.

Both kinds store pixels that are *not* the base: only a decoder that honours the metadata gets
the base back. A pipeline that ignores it sees washed-out colours or a rotated image.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
from PIL import Image, ImageCms

from skewcheck.probes import encode
from skewcheck.probes.bases import icc_profile_path
from skewcheck.probes.model import Base, GenContext, Probe

ICC_PROFILES = {
    "adobe-rgb": (
        "compatibleWithAdobeRGB1998.icc",
        "Adobe RGB (1998)-compatible",
        "DSLRs and Photoshop exports set to Adobe RGB",
    ),
    "prophoto-rgb": ("ProPhotoRGB.icc", "ProPhoto RGB", "Lightroom / raw-converter exports"),
}


@cache
def _profile_bytes(filename: str) -> bytes:
    return icc_profile_path(filename).read_bytes()


@cache
def _transforms(filename: str) -> tuple[ImageCms.ImageCmsTransform, ImageCms.ImageCmsTransform]:
    """sRGB -> profile and back, relative colorimetric (sRGB lies inside both gamuts)."""
    srgb = ImageCms.createProfile("sRGB")
    wide = ImageCms.getOpenProfile(str(icc_profile_path(filename)))
    intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
    forward = ImageCms.buildTransform(srgb, wide, "RGB", "RGB", renderingIntent=intent)
    backward = ImageCms.buildTransform(wide, srgb, "RGB", "RGB", renderingIntent=intent)
    return forward, backward


def icc_probes(key: str, base: Base) -> list[Probe]:
    filename, label, origin = ICC_PROFILES[key]
    forward, backward = _transforms(filename)
    profile = _profile_bytes(filename)
    stored = np.asarray(ImageCms.applyTransform(encode.rgb_image(base.rgb), forward))
    probes = []
    for ext, data in (
        ("jpg", encode.jpeg(stored, quality=95, subsampling="4:4:4", icc_profile=profile)),
        ("png", encode.png(stored, icc_profile=profile)),
    ):
        managed = np.asarray(ImageCms.applyTransform(encode.rgb_image(encode.decode_rgb(data)), backward))
        tolerance = encode.measured_tolerance(base.rgb, managed, lossless=ext == "png")
        naive = encode.mean_abs(base.rgb, encode.decode_rgb(data))
        note = (
            f"{ext.upper()} with pixels converted from sRGB into {label}, that profile embedded "
            f"({origin}); converted back to sRGB it is the base, read naively it is off by "
            f"{naive:.1f} levels on average (mean abs)"
        )
        probes.append(Probe(ext, data, "same-as-base", note, base=base.name, tolerance=tolerance))
    return probes


def icc_adobe_rgb(base: Base, ctx: GenContext) -> list[Probe]:
    return icc_probes("adobe-rgb", base)


def icc_prophoto_rgb(base: Base, ctx: GenContext) -> list[Probe]:
    return icc_probes("prophoto-rgb", base)


#: How to store pixels so that a viewer applying EXIF orientation N shows the base. The viewer's
#: transform for N (EXIF 2.3, tag 0x0112) is the inverse of the one listed here.
ORIENTATION_STORE = {
    2: ("mirrored left-right", lambda a: a[:, ::-1]),
    3: ("rotated 180 degrees", lambda a: a[::-1, ::-1]),
    4: ("mirrored top-bottom", lambda a: a[::-1, :]),
    5: ("mirrored about the main diagonal", lambda a: a.transpose(1, 0, 2)),
    6: ("rotated 90 degrees counter-clockwise", lambda a: np.rot90(a, 1)),
    7: ("mirrored about the anti-diagonal", lambda a: a[::-1, ::-1].transpose(1, 0, 2)),
    8: ("rotated 90 degrees clockwise", lambda a: np.rot90(a, -1)),
}


def exif_orientation(orientation: int, base: Base) -> list[Probe]:
    how, store = ORIENTATION_STORE[orientation]
    stored = np.ascontiguousarray(store(base.rgb))
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode.jpeg(stored, quality=95, subsampling="4:4:4", exif=exif.tobytes())
    note = (
        f"JPEG q95 4:4:4 with EXIF Orientation={orientation}, pixels stored {how}: phone and camera "
        "photos; only an orientation-aware decoder shows the base"
    )
    return [Probe("jpg", data, "same-as-base", note, base=base.name, tolerance=encode.lossy_tolerance(stored, data))]


def orientation_generator(orientation: int) -> Callable[[Base, GenContext], list[Probe]]:
    """The per-base generator of kind ``exif-orientation-<orientation>``."""

    def generate(base: Base, ctx: GenContext) -> list[Probe]:
        return exif_orientation(orientation, base)

    generate.__name__ = f"exif_orientation_{orientation}"
    return generate
