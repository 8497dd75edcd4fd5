"""Container formats and pixel modes other than 8-bit RGB, and transparency.

Each reproduces a place where decoders legitimately differ in what they hand back: one channel
instead of three, uint16 instead of uint8, CMYK, all frames of a GIF, or alpha kept, dropped or
composited.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from skewcheck.probes import encode
from skewcheck.probes.bases import alpha_sentinel, channel_order_sentinel
from skewcheck.probes.model import Base, GenContext, Probe

CHANNEL_SENTINEL = "sentinel.channel-order"


def grayscale(base: Base, ctx: GenContext) -> list[Probe]:
    luma = np.asarray(encode.rgb_image(base.rgb).convert("L"))
    reference = np.repeat(luma[..., None], 3, axis=2)
    data = encode.save(Image.fromarray(luma, "L"), "JPEG", quality=95)
    note = (
        "single-channel (L) JPEG, quality 95: ImageNet holds a few; decoders return H x W, H x W x 1 "
        f"or H x W x 3. Base is its luminance replicated to RGB ({base.name}.gray)"
    )
    return [
        Probe(
            "jpg",
            data,
            "same-as-base",
            note,
            base=f"{base.name}.gray",
            tolerance=encode.lossy_tolerance(reference, data),
            reference=reference,
        )
    ]


def png_16bit(base: Base, ctx: GenContext) -> list[Probe]:
    note = (
        "16-bit-per-channel RGB PNG (value v stored as 257 v): OpenCV's IMREAD_UNCHANGED and "
        "tf.io.decode_png(dtype=uint16) return 0-65535, so a fixed /255 is off by 257x"
    )
    return [Probe("png", encode.png_rgb16(base.rgb), "same-as-base", note, base=base.name, tolerance={"max_abs": 1})]


def cmyk_jpeg(base: Base, ctx: GenContext) -> list[Probe]:
    cmyk = encode.rgb_image(base.rgb).convert("CMYK")  # C=255-R, M=255-G, Y=255-B, K=0
    data = encode.save(cmyk, "JPEG", quality=95)  # libjpeg writes an Adobe APP14 marker (inverted CMYK)
    note = (
        "CMYK JPEG (Adobe APP14, inverted), quality 95, from print workflows; ImageNet holds 22: "
        "some decoders refuse it, some return 4 channels, some convert with inverted ink"
    )
    tolerance = encode.lossy_tolerance(base.rgb, data)
    return [Probe("jpg", data, "same-as-base", note, base=base.name, tolerance=tolerance)]


def webp(base: Base, ctx: GenContext) -> list[Probe]:
    data = encode.save(encode.rgb_image(base.rgb), "WEBP", quality=90, method=4)
    note = "lossy WebP, quality 90: served by CDNs in place of JPEG; not every decoder reads it"
    return [Probe("webp", data, "same-as-base", note, base=base.name, tolerance=encode.lossy_tolerance(base.rgb, data))]


def bmp(base: Base, ctx: GenContext) -> list[Probe]:
    note = "24-bit BMP (bottom-up rows, BGR order on disk): lossless"
    data = encode.save(encode.rgb_image(base.rgb), "BMP")
    return [Probe("bmp", data, "same-as-base", note, base=base.name, tolerance={"max_abs": 0})]


def tiff(base: Base, ctx: GenContext) -> list[Probe]:
    note = "8-bit RGB TIFF, Deflate-compressed: scanners and microscopy; lossless"
    data = encode.save(encode.rgb_image(base.rgb), "TIFF", compression="tiff_adobe_deflate")
    return [Probe("tiff", data, "same-as-base", note, base=base.name, tolerance={"max_abs": 0})]


def _palette_image(rgb: np.ndarray) -> Image.Image:
    """Exact P-mode image of an RGB array with at most 256 colours (sorted palette: deterministic)."""
    colours, index = np.unique(rgb.reshape(-1, 3), axis=0, return_inverse=True)
    if len(colours) > 256:
        raise ValueError("more than 256 colours")
    image = Image.fromarray(index.reshape(rgb.shape[:2]).astype(np.uint8), "P")
    image.putpalette(colours.astype(np.uint8).tobytes())
    return image


def palette(ctx: GenContext) -> list[Probe]:
    sentinel = channel_order_sentinel()
    note = "palette (P) PNG of the channel-order sentinel, exact colours: some decoders return indices"
    return [
        Probe(
            "png",
            encode.png(_palette_image(sentinel)),
            "same-as-base",
            note,
            base=CHANNEL_SENTINEL,
            tolerance={"max_abs": 0},
            reference=sentinel,
        )
    ]


def gif_multiframe(ctx: GenContext) -> list[Probe]:
    sentinel = channel_order_sentinel()
    frames = [sentinel, sentinel[::-1, ::-1], 255 - sentinel]
    images = [_palette_image(np.ascontiguousarray(f)) for f in frames]
    data = encode.save(images[0], "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    note = (
        "3-frame GIF whose first frame is the channel-order sentinel (then rotated, then inverted): "
        "tf.io.decode_gif returns all frames (4-D); pipelines that keep the last frame differ"
    )
    return [
        Probe("gif", data, "same-as-base", note, base=CHANNEL_SENTINEL, tolerance={"max_abs": 0}, reference=sentinel)
    ]


def rgba_png(base: Base, ctx: GenContext) -> list[Probe]:
    height, width = base.rgb.shape[:2]
    alpha = np.full((height, width), 255, np.uint8)
    alpha[:, width * 2 // 3 :] = 0  # right third fully transparent
    alpha[height // 2 : height // 2 + max(1, height // 8), : width * 2 // 3] = 128  # a half-transparent band
    rgba = np.dstack([base.rgb, alpha])
    data = encode.png(Image.fromarray(rgba, "RGBA"))
    note = (
        "RGBA PNG, right third alpha 0 and a band at alpha 128, hidden RGB = the base: dropping alpha "
        "gives the base, compositing on white or black does not (decode option alpha drop|white|black)"
    )
    return [Probe("png", data, "either", note, base=base.name)]


def alpha_sentinel_probe(ctx: GenContext) -> list[Probe]:
    note = (
        "RGBA sentinel: left opaque grey (128); right half alpha 0 hiding magenta (255,0,255); bottom "
        "band alpha 128 over green. Drop alpha: magenta/green; on white: white/(128,255,128); on black: black/(0,128,0)"
    )
    return [Probe("png", encode.png(alpha_sentinel()), "either", note)]


def palette_transparency(ctx: GenContext) -> list[Probe]:
    sentinel = channel_order_sentinel()
    image = _palette_image(sentinel)
    palette_rgb = np.frombuffer(bytes(image.getpalette() or []), np.uint8).reshape(-1, 3)
    red = int(np.flatnonzero((palette_rgb == (255, 0, 0)).all(axis=1))[0])
    data = encode.png(image, transparency=red)
    note = (
        "palette PNG of the channel-order sentinel with its red entry transparent (tRNS): dropping "
        "transparency gives the sentinel, compositing blanks the red block"
    )
    return [Probe("png", data, "either", note, base=CHANNEL_SENTINEL, reference=sentinel)]
