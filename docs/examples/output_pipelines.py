"""The pipelines of docs/models.md: one training pipeline and two broken serving ones (32×32×3)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def _rgb32(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB").resize((32, 32), Image.BILINEAR), dtype=np.float32)


def train(data: bytes) -> np.ndarray:
    return _rgb32(data) / 255.0


def serve_bgr(data: bytes) -> np.ndarray:
    """An OpenCV-style service: the same pixels in BGR order."""
    return _rgb32(data)[..., ::-1] / 255.0


def serve_no_scale(data: bytes) -> np.ndarray:
    """A service that forgot the /255."""
    return _rgb32(data)
