"""Gray pipelines for a 1-channel model (64×64×1 float in [-1, 1], like an emotion classifier).

``gray_reference`` is how such a model is trained: Pillow decodes, ``convert("L")`` (BT.601 on
RGB), bilinear resize, ``/ 127.5 - 1``. The ``gray_serve_*`` paths make one realistic mistake
each with the real library calls; ``gray_equivalent_*`` are other code with the same result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

SIZE = (64, 64)


def _rgb(path: str) -> Image.Image:
    im = Image.open(path)
    im.load()
    im = ImageOps.exif_transpose(im)
    return im.convert("RGB")


def _unit(gray: np.ndarray) -> np.ndarray:
    return (gray.astype(np.float32) / 127.5 - 1.0)[..., None]


def gray_reference(path: str) -> np.ndarray:
    return _unit(np.asarray(_rgb(path).convert("L").resize(SIZE, Image.BILINEAR)))


def gray_equivalent_resize_first(path: str) -> np.ndarray:
    """Same weights, same resizer: Pillow's L conversion after the resize (rounding differs by ≤1)."""
    return _unit(np.asarray(_rgb(path).resize(SIZE, Image.BILINEAR).convert("L")))


def _cv2_bgr(path: str) -> np.ndarray:
    import cv2

    bgr = cv2.imdecode(np.frombuffer(Path(path).read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cv2.imdecode could not decode {path}")
    return bgr


def gray_train_opencv(path: str) -> np.ndarray:
    """An OpenCV training path done right: imdecode (BGR) → COLOR_BGR2GRAY → cv2.resize."""
    import cv2

    gray = cv2.cvtColor(_cv2_bgr(path), cv2.COLOR_BGR2GRAY)
    return _unit(cv2.resize(gray, SIZE, interpolation=cv2.INTER_LINEAR))


def gray_serve_opencv_swapped(path: str) -> np.ndarray:
    """The mistake: the frame is converted to RGB first, then handed to COLOR_BGR2GRAY."""
    import cv2

    rgb = cv2.cvtColor(_cv2_bgr(path), cv2.COLOR_BGR2RGB)
    gray = cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY)  # weights meant for B, G, R applied to R, G, B
    return _unit(cv2.resize(gray, SIZE, interpolation=cv2.INTER_LINEAR))


def gray_serve_pil_as_bgr(path: str) -> np.ndarray:
    """A Pillow RGB decode passed to COLOR_BGR2GRAY, against a convert("L") training path."""
    import cv2

    rgb = np.asarray(_rgb(path))
    gray = cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY)
    return _unit(np.asarray(Image.fromarray(gray).resize(SIZE, Image.BILINEAR)))


def gray_serve_mean(path: str) -> np.ndarray:
    """Gray as the plain channel average (``rgb.mean(-1)``), against convert("L")."""
    rgb = np.asarray(_rgb(path).resize(SIZE, Image.BILINEAR), dtype=np.float32)
    return (rgb.mean(-1) / 127.5 - 1.0)[..., None].astype(np.float32)


def gray_serve_bt709(path: str) -> np.ndarray:
    """BT.709 luma (what some video paths and skimage.color.rgb2gray use), against convert("L")."""
    rgb = np.asarray(_rgb(path).resize(SIZE, Image.BILINEAR), dtype=np.float32)
    gray = rgb @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    return (gray / 127.5 - 1.0)[..., None].astype(np.float32)


# -- which library converts to gray: integer / fixed-point conversions, about one gray level apart --


def _gray_then_resize(gray: np.ndarray) -> np.ndarray:
    """A uint8 H×W gray frame, resized and scaled exactly as ``gray_reference`` does."""
    return _unit(np.asarray(Image.fromarray(np.ascontiguousarray(gray)).resize(SIZE, Image.BILINEAR)))


def gray_serve_cv2(path: str) -> np.ndarray:
    """Pillow decode, then ``cv2.cvtColor(COLOR_RGB2GRAY)`` (fixed point, 14-bit coefficients) on
    the uint8 RGB frame, against convert("L") (fixed point, 16-bit): the rest is the same."""
    import cv2

    return _gray_then_resize(cv2.cvtColor(np.asarray(_rgb(path)), cv2.COLOR_RGB2GRAY))


def gray_serve_tf(path: str) -> np.ndarray:
    """Pillow decode, then ``tf.image.rgb_to_grayscale`` on the uint8 frame (float weights 0.2989,
    0.587, 0.114; back to uint8 by tf's own conversion), against convert("L")."""
    import tensorflow as tf

    gray = tf.image.rgb_to_grayscale(tf.constant(np.asarray(_rgb(path))))
    return _gray_then_resize(gray.numpy()[..., 0])


def gray_train_cv2(path: str) -> np.ndarray:
    """A training path on cv2.cvtColor(COLOR_RGB2GRAY) after a Pillow decode."""
    return gray_serve_cv2(path)
