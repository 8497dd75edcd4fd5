"""Values: float32 in [0, 1], or float32 left in [0, 255]."""

from __future__ import annotations

import numpy as np


def to_unit(img: np.ndarray) -> np.ndarray:
    scaled = img.astype(np.float32) / np.float32(255.0)
    return scaled


def to_float(img: np.ndarray) -> np.ndarray:
    values = img.astype(np.float32)
    return values
