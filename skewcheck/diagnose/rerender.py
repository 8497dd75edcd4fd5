"""Re-render an original image with each library's resize methods, to name what a side used.

A table in the spirit of clean-fid's ``{library: {filter: constant}}``: every candidate is one
visible library call. TensorFlow candidates are tried only when TensorFlow is already loaded (a
model audit), so a tensor-only audit does not pay for importing it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
from PIL import Image

Resizer = Callable[[np.ndarray, tuple[int, int]], np.ndarray]  # (rgb uint8, (h, w)) -> float64


def _pil(method: int) -> Resizer:
    return lambda rgb, hw: np.asarray(Image.fromarray(rgb).resize((hw[1], hw[0]), resample=method), dtype=np.float64)


def _cv2(flag_name: str) -> Resizer:
    def resize(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        import cv2

        return cv2.resize(rgb, (hw[1], hw[0]), interpolation=getattr(cv2, flag_name)).astype(np.float64)

    return resize


def _tf(method: str, antialias: bool) -> Resizer:
    def resize(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        tf = sys.modules["tensorflow"]
        return tf.image.resize(rgb, hw, method=method, antialias=antialias).numpy().astype(np.float64)

    return resize


RESIZERS: dict[str, Resizer] = {
    "pil.nearest": _pil(Image.NEAREST),
    "pil.bilinear": _pil(Image.BILINEAR),
    "pil.bicubic": _pil(Image.BICUBIC),
    "pil.lanczos": _pil(Image.LANCZOS),
    "pil.box": _pil(Image.BOX),
    "opencv.INTER_NEAREST": _cv2("INTER_NEAREST"),
    "opencv.INTER_LINEAR": _cv2("INTER_LINEAR"),
    "opencv.INTER_CUBIC": _cv2("INTER_CUBIC"),
    "opencv.INTER_AREA": _cv2("INTER_AREA"),
    "opencv.INTER_LANCZOS4": _cv2("INTER_LANCZOS4"),
}
TF_RESIZERS: dict[str, Resizer] = {
    "tf.bilinear": _tf("bilinear", False),
    "tf.bilinear+antialias": _tf("bilinear", True),
    "tf.nearest": _tf("nearest", False),
    "tf.bicubic": _tf("bicubic", False),
    "tf.area": _tf("area", False),
}


def candidates() -> dict[str, Resizer]:
    if "tensorflow" in sys.modules:
        return {**RESIZERS, **TF_RESIZERS}
    return dict(RESIZERS)


def center_crop_to_aspect(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """The largest centred window of ``rgb`` with the aspect ratio of ``hw``."""
    h, w = rgb.shape[:2]
    target = hw[1] / hw[0]
    if w / h > target:
        new_w = max(1, round(h * target))
        x0 = (w - new_w) // 2
        return rgb[:, x0 : x0 + new_w]
    new_h = max(1, round(w / target))
    y0 = (h - new_h) // 2
    return rgb[y0 : y0 + new_h]


def pad_to_aspect(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Letterbox: keep the whole image, pad with black to the aspect ratio of ``hw``."""
    h, w = rgb.shape[:2]
    target = hw[1] / hw[0]
    if w / h > target:
        new_h = round(w / target)
        out = np.zeros((new_h, w, 3), np.uint8)
        y0 = (new_h - h) // 2
        out[y0 : y0 + h] = rgb
        return out
    new_w = round(h * target)
    out = np.zeros((h, new_w, 3), np.uint8)
    x0 = (new_w - w) // 2
    out[:, x0 : x0 + w] = rgb
    return out


GEOMETRIES: dict[str, Callable[[np.ndarray, tuple[int, int]], np.ndarray]] = {
    "squash": lambda rgb, hw: rgb,
    "center-crop": center_crop_to_aspect,
    "letterbox": pad_to_aspect,
}
