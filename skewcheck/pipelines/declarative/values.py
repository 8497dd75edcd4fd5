"""Value and layout ops: ``channel_order``, ``cast``, ``scale``, ``normalize``, ``preset``,
``layout``, ``batch``. Plain NumPy with NumPy's own type promotion, stated where it matters."""

from __future__ import annotations

import numpy as np

from skewcheck.pipelines.declarative.spec import (
    Batch,
    Cast,
    ChannelOrder,
    Layout,
    Normalize,
    Preset,
    Scale,
)
from skewcheck.presets import PRESETS

# torchvision's Normalize(IMAGENET_MEAN, IMAGENET_STD) after ToTensor() is keras.torch's arithmetic.
PRESET_CONSTANTS = {
    "keras.caffe": PRESETS["keras.caffe"],
    "keras.tf": PRESETS["keras.tf"],
    "keras.torch": PRESETS["keras.torch"],
    "torchvision.imagenet": PRESETS["keras.torch"],
}


def float_type(dtype: np.dtype) -> np.dtype:
    """float64 stays float64; everything else computes in float32 (keras' floatx, torch's default)."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def channel_order(img: np.ndarray, step: ChannelOrder) -> np.ndarray:
    return np.ascontiguousarray(img[..., list(step.order)])


def cast(img: np.ndarray, step: Cast) -> np.ndarray:
    return img.astype(step.dtype)


def scale(img: np.ndarray, step: Scale) -> np.ndarray:
    out = img * step.factor  # uint8 × Python float → float64, as in user code
    return out + step.offset if step.offset else out


def normalize(img: np.ndarray, step: Normalize) -> np.ndarray:
    dtype = float_type(img.dtype)
    return (img.astype(dtype) - np.asarray(step.mean, dtype)) / np.asarray(step.std, dtype)


def preset(img: np.ndarray, step: Preset) -> np.ndarray:
    """``keras.applications.imagenet_utils.preprocess_input(x, mode=...)`` on RGB 0-255 input."""
    p = PRESET_CONSTANTS[step.name]
    dtype = float_type(img.dtype)
    x = img[..., list(p.order)].astype(dtype) * dtype.type(p.alpha)
    return (x - np.asarray(p.mean, dtype)) / np.asarray(p.std, dtype)


def layout(img: np.ndarray, step: Layout) -> np.ndarray:
    axes = (2, 0, 1) if step.to == "chw" else (1, 2, 0)
    return np.ascontiguousarray(np.transpose(img, axes))


def batch(img: np.ndarray, step: Batch) -> np.ndarray:
    return img[np.newaxis]
