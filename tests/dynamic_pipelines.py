"""Dynamic-size pipelines (a text detector taking any multiple of 32): two resize policies.

``dyn_short_side`` scales the short side to 96 and rounds both sides to a multiple of 32;
``dyn_long_side`` scales the long side to 96 instead (rounded the same way).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

TARGET, MULTIPLE = 96, 32


def _scaled(path: str, scale_of) -> np.ndarray:  # type: ignore[no-untyped-def]
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    k = scale_of(im.width, im.height)
    w = max(MULTIPLE, round(im.width * k / MULTIPLE) * MULTIPLE)
    h = max(MULTIPLE, round(im.height * k / MULTIPLE) * MULTIPLE)
    return np.asarray(im.resize((w, h), Image.BILINEAR), dtype=np.float32) / 255.0


def dyn_short_side(path: str) -> np.ndarray:
    return _scaled(path, lambda w, h: TARGET / min(w, h))


def dyn_long_side(path: str) -> np.ndarray:
    return _scaled(path, lambda w, h: TARGET / max(w, h))


def dyn_short_side_bgr(path: str) -> np.ndarray:
    """The short-side policy, channels reversed (an OpenCV frame used without cvtColor)."""
    return np.ascontiguousarray(dyn_short_side(path)[..., ::-1])


def dyn_short_side_raw(path: str) -> np.ndarray:
    """The short-side policy without the /255."""
    return dyn_short_side(path) * np.float32(255.0)


def dyn_short_side_numpy(path: str) -> np.ndarray:
    """The same tensor written another way (np.divide on the uint8 resize)."""
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    k = TARGET / min(im.width, im.height)
    size = (
        max(MULTIPLE, round(im.width * k / MULTIPLE) * MULTIPLE),
        max(MULTIPLE, round(im.height * k / MULTIPLE) * MULTIPLE),
    )
    return np.divide(np.asarray(im.resize(size, Image.BILINEAR)), 255.0).astype(np.float32)


def chw_edge_map(batch: np.ndarray) -> np.ndarray:
    """A callable dense model with a C×H×W output (N×1×H×W): a smooth probability of "bright and
    red", of the input's own spatial size (any size, like the dynamic Keras model)."""
    x = np.asarray(batch, dtype=np.float32)
    score = 6.0 * (x[..., 0] - 0.5 * (x[..., 1] + x[..., 2])) + 4.0 * (x.mean(-1) - 0.5)
    return (1.0 / (1.0 + np.exp(-score)))[:, None]
