"""Serving bugs the gate must fail whatever the diagnosis names (issue 23), on the bundled example.

``train`` is the example's correct pipeline (PIL decode, float32 / 255, 32×32 digits). Each
``serve_*`` is one bug from a public tracker or incident, written as users write it; the
``quiet_*`` ones are numerically equivalent ports that must pass. Which images a bug hits is
decided by the file's bytes (CRC-32), so runs are deterministic whatever the order.
"""

from __future__ import annotations

import io
import zlib

import numpy as np
from PIL import Image, ImageOps

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
SIZE = 32


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR))


def train(data: bytes) -> np.ndarray:
    return _pixels(data).astype(np.float32) / 255.0


def _hit(data: bytes, percent: int) -> bool:
    return zlib.crc32(data) % 100 < percent


def serve_integer_divide(data: bytes) -> np.ndarray:
    """A C++ port that divides uint8 by 255 in integer arithmetic: every pixel becomes 0 or 1."""
    return (_pixels(data) // 255).astype(np.float32)


def serve_noise_on_some(data: bytes) -> np.ndarray:
    """About 10 % of the requests get a buffer of garbage (a reused, unfilled buffer)."""
    if _hit(data, 10):
        return np.random.default_rng(zlib.crc32(data)).random((SIZE, SIZE, 3), dtype=np.float32)
    return train(data)


def serve_black_on_some(data: bytes) -> np.ndarray:
    """About 5 % of the fetches fail and hand back zeros instead of raising."""
    if _hit(data, 5):
        return np.zeros((SIZE, SIZE, 3), np.float32)
    return train(data)


def serve_no_exif(data: bytes) -> np.ndarray:
    """Serving ignores the EXIF orientation: rotated uploads reach the model sideways."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR), dtype=np.float32) / 255.0


def train_keep_aspect(data: bytes) -> np.ndarray:
    """Training keeps the aspect ratio and pads the short side with the background (white)."""
    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
        scale = SIZE / max(rgb.size)
        w, h = max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))
        canvas = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
        canvas.paste(rgb.resize((w, h), Image.BILINEAR), (0, 0))
        return np.asarray(canvas, dtype=np.float32) / 255.0


def serve_stretch(data: bytes) -> np.ndarray:
    """Serving stretches every crop to the input size."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR), dtype=np.float32) / 255.0


def train_normalized(data: bytes) -> np.ndarray:
    return (train(data) - MEAN) / STD


def serve_not_normalized(data: bytes) -> np.ndarray:
    """Serving forgets the mean/std normalization."""
    return train(data)


def quiet_numpy_division(data: bytes) -> np.ndarray:
    """Other code, the same numbers: float64 division, then float32."""
    return (_pixels(data) / 255.0).astype(np.float32)


def quiet_float32_rounding(data: bytes) -> np.ndarray:
    """A reimplementation that multiplies by a rounded reciprocal: float32 rounding apart."""
    return _pixels(data).astype(np.float32) * np.float32(0.003921569)


def quiet_opencv_port(data: bytes) -> np.ndarray:
    """The same decode with OpenCV (BGR converted back) and its own bilinear resize."""
    import cv2

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return cv2.resize(rgb, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
