"""Two PIL pipelines for the compare --traffic tests: one honours EXIF orientation and ICC profiles,
the other reads the pixels as stored (orientation and color-profile findings on such files)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageCms, ImageOps

SIZE = 32


def _finish(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR), dtype=np.float32) / 255


def upright(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        icc = im.info.get("icc_profile")
        im = ImageOps.exif_transpose(im)
        if icc:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            im = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        return _finish(im)


def as_stored(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return _finish(im)
