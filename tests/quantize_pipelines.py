"""Quantizing pipelines and look-alikes that are not quantization (issue 26), 48×48 RGB in [0, 1].

Referenced as 'tests/quantize_pipelines.py:NAME'. ``train`` is the careful side.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

SIZE = (48, 48)


def _uint8(path: str, resample: int = Image.BILINEAR) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize(SIZE, resample))


def train(path: str) -> np.ndarray:
    return _uint8(path).astype(np.float32) / 255.0


def serve_int_divide(path: str) -> np.ndarray:
    """uint8 // 255: every pixel becomes 0 or 1 (integer division where a float one was meant)."""
    return (_uint8(path) // 255).astype(np.float32)


def serve_cast_after_scale(path: str) -> np.ndarray:
    """(x / 255).astype(uint8) then back to float: the same loss, by a cast."""
    return (_uint8(path) / 255.0).astype(np.uint8).astype(np.float32)


def serve_four_bits(path: str) -> np.ndarray:
    """x >> 4 << 4: 16 levels (a bit-depth cut), then /255 as train does."""
    return ((_uint8(path) >> 4) << 4).astype(np.float32) / 255.0


def serve_four_bits_cv2(path: str) -> np.ndarray:
    """The bit-depth cut after another resizer: the steps' edges are not exactly train's."""
    rgb = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    small = cv2.resize(rgb, SIZE, interpolation=cv2.INTER_LINEAR)
    return ((small >> 4) << 4).astype(np.float32) / 255.0


def train_four_bits(path: str) -> np.ndarray:
    return serve_four_bits(path)


def serve_nearest(path: str) -> np.ndarray:
    """Another resampler, no quantization: on two-tone documents it holds few values too."""
    return _uint8(path, Image.NEAREST).astype(np.float32) / 255.0


def serve_raw(path: str) -> np.ndarray:
    """A missing /255: a scale, which a rescaling does undo."""
    return _uint8(path).astype(np.float32)


CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def serve_four_bits_caffe(path: str) -> np.ndarray:
    """A bit-depth cut, then Keras 'caffe' (BGR, minus the mean) where training divides by 255:
    two causes, and the per-channel mean gives each channel its own 16 levels."""
    cut = ((_uint8(path) >> 4) << 4).astype(np.float32)
    return cut[..., ::-1] - CAFFE_BGR_MEAN


def serve_five_bits_scaled(path: str) -> np.ndarray:
    """A 5-bit cut served at 2× training's scale (/127.5): the value map stands beside the rounding."""
    return ((_uint8(path) >> 3) << 3).astype(np.float32) / 127.5


IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def train_imagenet(path: str) -> np.ndarray:
    return (_uint8(path).astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD


def serve_imagenet_mean_only(path: str) -> np.ndarray:
    """The mean subtracted, the division by std forgotten: serve = train × std per channel."""
    return _uint8(path).astype(np.float32) / 255.0 - IMAGENET_MEAN
