"""Aspect-kept, right-padded crops (like a text-direction classifier: 3×48×96 CHW, padded with 0).

``pad_reference`` resizes each image to height 48 with its aspect kept (width at most 96), scales to
[0, 1] and pads on the right with zeros to 96. ``pad_serve_normalized`` normalizes the content to
[-1, 1] (``(x - 0.5) / 0.5``) but leaves the padding at 0, as code that pads after normalizing does.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

H, W = 48, 96


def _content(path: str) -> np.ndarray:
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    w = max(1, min(W, round(H * im.width / im.height)))
    return np.asarray(im.resize((w, H), Image.BILINEAR), dtype=np.float32) / 255.0


def _pad_chw(content: np.ndarray) -> np.ndarray:
    out = np.zeros((H, W, 3), np.float32)
    out[:, : content.shape[1]] = content
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def pad_reference(path: str) -> np.ndarray:
    return _pad_chw(_content(path))


def pad_serve_normalized(path: str) -> np.ndarray:
    return _pad_chw((_content(path) - 0.5) / 0.5)


def pad_serve_torch_normalized(path: str) -> np.ndarray:
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    return _pad_chw((_content(path) - mean) / std)
