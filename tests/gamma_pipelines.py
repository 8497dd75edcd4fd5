"""Transfer-curve pipelines and look-alikes that are not a curve, 48×48 RGB (issue 25, gamma).

Referenced as 'tests/gamma_pipelines.py:NAME'. ``train`` is the careful side: Pillow decode and
bilinear resize, float32 in [0, 1]. Each ``serve_*`` adds one curve, or one skew that is no curve.
"""

from __future__ import annotations

import cv2
import numpy as np
import skimage.exposure
from PIL import Image

SIZE = (48, 48)
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def _uint8(path: str) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize(SIZE, Image.BILINEAR))


def _linearized(x: np.ndarray) -> np.ndarray:
    """sRGB-encoded [0, 1] to linear light, IEC 61966-2-1 (what colour-science's ``eotf_sRGB``
    and "linearize before the network" code compute)."""
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def train(path: str) -> np.ndarray:
    return _uint8(path).astype(np.float32) / 255.0


def train_torch(path: str) -> np.ndarray:
    return (train(path) - MEAN) / STD


def serve_linearized(path: str) -> np.ndarray:
    """sRGB → linear before the network, on serving only."""
    return _linearized(_uint8(path) / 255.0).astype(np.float32)


def train_linearized(path: str) -> np.ndarray:
    return serve_linearized(path)


def serve_adjust_gamma(path: str) -> np.ndarray:
    """skimage.exposure.adjust_gamma(img, 2.2) on the uint8 pixels (a lookup table), then / 255."""
    return skimage.exposure.adjust_gamma(_uint8(path), 2.2).astype(np.float32) / 255.0


def serve_cv2_gamma_lut(path: str) -> np.ndarray:
    """The OpenCV idiom: a 256-entry gamma table (γ = 1 / 2.2, brightening) through cv2.LUT."""
    table = np.round(255.0 * (np.arange(256) / 255.0) ** (1 / 2.2)).astype(np.uint8)
    return cv2.LUT(_uint8(path), table).astype(np.float32) / 255.0


def serve_linearized_torch(path: str) -> np.ndarray:
    """Linearized, then torchvision's ImageNet Normalize, against train_torch: the curve beside the usual normalization."""
    return ((_linearized(_uint8(path) / 255.0) - MEAN) / STD).astype(np.float32)


def serve_numpy_port(path: str) -> np.ndarray:
    """Other code for the same numbers: np.array and a float64 division."""
    with Image.open(path) as im:
        arr = np.array(im.convert("RGB").resize(SIZE, resample=Image.Resampling.BILINEAR))
    return (arr / 255.0).astype(np.float32)


def serve_cv2_resize(path: str) -> np.ndarray:
    """Another resizer (OpenCV INTER_AREA), no curve."""
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return cv2.resize(rgb, SIZE, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def serve_raw(path: str) -> np.ndarray:
    """A missing / 255: a scale."""
    return _uint8(path).astype(np.float32)


def serve_torch(path: str) -> np.ndarray:
    """torchvision's ImageNet Normalize on serving only: a normalization."""
    return (train(path) - MEAN) / STD


def serve_five_bits(path: str) -> np.ndarray:
    """A bit-depth cut: a step function of train, monotone like a curve, but no curve."""
    return ((_uint8(path) >> 3) << 3).astype(np.float32) / 255.0
