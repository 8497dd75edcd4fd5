"""Pipelines for the multi-head fixtures (32×32×3), referenced as 'tests/head_pipelines.py:NAME'.

``train`` is the careful side (Pillow, bilinear, /255); ``serve_port`` the same job written with
OpenCV (a correct port: it differs only by resampler rounding); the others make one mistake each.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

SIZE = (32, 32)


def _pil(path: str) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize(SIZE, Image.BILINEAR), dtype=np.float32)


def train(path: str) -> np.ndarray:
    return _pil(path) / 255.0


def serve_port(path: str) -> np.ndarray:
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return cv2.resize(rgb, SIZE, interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0


def train_signed(path: str) -> np.ndarray:
    return _pil(path) / 127.5 - 1.0


def serve_signed_128(path: str) -> np.ndarray:
    """/128 - 1 instead of /127.5 - 1: at most 0.8 % of the range apart, harmless."""
    return _pil(path) / 128.0 - 1.0


def serve_bgr(path: str) -> np.ndarray:
    return _pil(path)[..., ::-1] / 255.0


def serve_stretch_vs_pad(path: str) -> np.ndarray:
    """Pads to a square first (letterbox, grey) where train stretches."""
    with Image.open(path) as im:
        im = im.convert("RGB")
        side = max(im.size)
        canvas = Image.new("RGB", (side, side), (114, 114, 114))
        canvas.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
        return np.asarray(canvas.resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0
