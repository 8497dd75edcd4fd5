"""Synthetic sentinels and size traps: images built to make one kind of skew impossible to miss."""

from __future__ import annotations

import numpy as np

from skewcheck.probes import encode
from skewcheck.probes.bases import channel_order_sentinel, resize_sentinel
from skewcheck.probes.gen_formats import CHANNEL_SENTINEL
from skewcheck.probes.model import GenContext, Probe

#: 13400 x 13400 = 179,560,000 pixels: just above twice Pillow's default MAX_IMAGE_PIXELS
#: (2 x 89,478,485 = 178,956,970), where Pillow raises DecompressionBombError. Fixed rather than
#: read from Pillow, so the probe set does not depend on a setting the user may have changed.
BOMB_SIDE = 13400


def sentinel_channel_order(ctx: GenContext) -> list[Probe]:
    sentinel = channel_order_sentinel()
    note = (
        "channel-order sentinel: big red, medium green, small blue block, yellow, orange, grey ramp; "
        "an RGB/BGR swap moves the channel means by ~100 levels and no flip can hide it"
    )
    jpeg = encode.jpeg(sentinel, quality=95, subsampling="4:4:4")
    return [
        Probe(
            "png",
            encode.png(sentinel),
            "same-as-base",
            note + " (lossless PNG)",
            base=CHANNEL_SENTINEL,
            tolerance={"max_abs": 0},
            reference=sentinel,
        ),
        Probe(
            "jpg",
            jpeg,
            "same-as-base",
            note + " (JPEG q95 4:4:4, the path OpenCV users take)",
            base=CHANNEL_SENTINEL,
            tolerance=encode.lossy_tolerance(sentinel, jpeg),
            reference=sentinel,
        ),
    ]


def sentinel_resize(ctx: GenContext) -> list[Probe]:
    sentinel = resize_sentinel()
    note = (
        "192x192 zone plate with a thin circle (Clean-FID's test): decodes exactly; after resizing, "
        "antialiased and aliased resizers (PIL vs OpenCV vs tf.image) differ strongly"
    )
    return [
        Probe(
            "png",
            encode.png(sentinel),
            "same-as-base",
            note,
            base="sentinel.resize",
            tolerance={"max_abs": 0},
            reference=sentinel,
        )
    ]


def size_1x1(ctx: GenContext) -> list[Probe]:
    pixel = np.array([[[200, 30, 60]]], np.uint8)
    note = "a 1x1 image: crops and aspect-preserving resizes with integer arithmetic can produce 0-sized outputs"
    return [
        Probe(
            "png", encode.png(pixel), "same-as-base", note, base="size.1x1", tolerance={"max_abs": 0}, reference=pixel
        )
    ]


def size_extreme_aspect(ctx: GenContext) -> list[Probe]:
    x = np.linspace(0, 255, 4000)
    wide = np.zeros((8, 4000, 3), np.uint8)
    wide[..., 0] = np.round(x).astype(np.uint8)[None, :]
    wide[..., 2] = 255 - wide[..., 0]
    wide[4:, :, 1] = 255
    tall = np.ascontiguousarray(wide.transpose(1, 0, 2))
    probes = []
    for array, label in ((wide, "4000x8"), (tall, "8x4000")):
        note = (
            f"{label} (width x height) colour ramp: centre crops and fixed-aspect resizes "
            "disagree, some decoders or resizers refuse sides under 16 px"
        )
        probes.append(
            Probe(
                f"{label}.png",
                encode.png(array),
                "same-as-base",
                note,
                base=f"size.{label}",
                tolerance={"max_abs": 0},
                reference=array,
            )
        )
    return probes


def size_decompression_bomb(ctx: GenContext) -> list[Probe]:
    side = BOMB_SIDE
    row = bytes((side + 7) // 8)  # 1-bit greyscale, all black
    data = encode.png_from_rows(side, side, 1, 0, (b"\x00" + row for _ in range(side)))
    note = (
        f"{side}x{side} all-black 1-bit PNG ({side * side:,} pixels, ~{len(data) // 1024} KiB on disk): above twice "
        f"Pillow's MAX_IMAGE_PIXELS, so Image.open raises DecompressionBombError; decoded it is "
        f"{side * side * 3 / 2**20:,.0f} MiB of RGB. A server must refuse it"
    )
    return [Probe("png", data, "reject", note)]
