"""Decoding: Pillow gives RGB, OpenCV gives BGR."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image


def rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("RGB"))
    return pixels


def bgr(data: bytes) -> np.ndarray:
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return pixels
