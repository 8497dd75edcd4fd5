"""The ``resize`` and ``center_crop`` ops.

A ``{library: {method: constant}}`` table per library, in the spirit of clean-fid's resize.py, and
one function per library whose body is the library call. ``step.size`` is ``(height, width)``;
Pillow and OpenCV take ``(width, height)``, TensorFlow ``(height, width)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from skewcheck.native import import_tensorflow
from skewcheck.pipelines.declarative.spec import CenterCrop, Resize

PIL_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "area": Image.Resampling.BOX,
    "lanczos": Image.Resampling.LANCZOS,
}
CV2_INTERPOLATION = {  # attribute names: cv2 is imported only when an OpenCV step runs
    "nearest": "INTER_NEAREST",
    "bilinear": "INTER_LINEAR",
    "bicubic": "INTER_CUBIC",
    "area": "INTER_AREA",
    "lanczos": "INTER_LANCZOS4",
}
TF_METHOD = {"nearest": "nearest", "bilinear": "bilinear", "bicubic": "bicubic", "area": "area", "lanczos": "lanczos3"}


def resize_pil(img: np.ndarray, h: int, w: int, step: Resize) -> np.ndarray:
    resample = PIL_RESAMPLE[step.method]
    if img.dtype == np.uint8 and img.shape[-1] in (1, 3, 4):
        out = np.asarray(Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).resize((w, h), resample=resample))
    else:  # Pillow resizes other data one 32-bit float channel (mode "F") at a time
        planes = [
            Image.fromarray(img[..., c].astype(np.float32)).resize((w, h), resample=resample)
            for c in range(img.shape[-1])
        ]
        out = np.stack([np.asarray(p) for p in planes], -1)
    return out.reshape(h, w, -1)


def resize_opencv(img: np.ndarray, h: int, w: int, step: Resize) -> np.ndarray:
    import cv2

    out = cv2.resize(img, (w, h), interpolation=getattr(cv2, CV2_INTERPOLATION[step.method]))
    return out.reshape(h, w, -1)  # cv2 drops a single channel axis


def resize_tf(img: np.ndarray, h: int, w: int, step: Resize) -> np.ndarray:
    tf = import_tensorflow()
    return tf.image.resize(img, (h, w), method=TF_METHOD[step.method], antialias=step.antialias).numpy()


RESIZERS: dict[str, Callable[[np.ndarray, int, int, Resize], np.ndarray]] = {
    "pil": resize_pil,
    "opencv": resize_opencv,
    "tf": resize_tf,
}


def resize(img: np.ndarray, step: Resize) -> np.ndarray:
    h, w = step.size
    if not step.keep_aspect:
        return RESIZERS[step.library](img, h, w, step)
    # Letterbox: the largest size with the image's aspect that fits, then centred padding.
    scale = min(h / img.shape[0], w / img.shape[1])
    nh, nw = max(1, round(img.shape[0] * scale)), max(1, round(img.shape[1] * scale))
    out = RESIZERS[step.library](img, nh, nw, step)
    top, left = (h - nh) // 2, (w - nw) // 2
    return np.pad(out, ((top, h - nh - top), (left, w - nw - left), (0, 0)), constant_values=step.pad)


def center_crop(img: np.ndarray, step: CenterCrop) -> np.ndarray:
    height, width = img.shape[:2]
    if step.fraction is not None:  # tf.image.central_crop's arithmetic
        top, left = int((height - height * step.fraction) / 2), int((width - width * step.fraction) / 2)
        h, w = height - 2 * top, width - 2 * left
    else:
        assert step.size is not None
        h, w = step.size
        if h > height or w > width:
            raise ValueError(f"center_crop {h}x{w} is larger than the {height}x{width} image")
        top, left = (height - h) // 2, (width - w) // 2  # keras.layers.CenterCrop rounds down
    return img[top : top + h, left : left + w]
