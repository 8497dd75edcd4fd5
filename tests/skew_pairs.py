"""Realistic pipeline pairs, written as users write them (PIL, OpenCV, tf.image), for the suite.

``reference`` is a careful training pipeline: EXIF applied, converted to sRGB, alpha composited
on white, resized with PIL bilinear to 64×64, float32 in [0, 1]. Each ``serve_*`` makes ONE
realistic mistake; ``equivalent_*`` are different code with exactly the same result.
"""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageOps

SIZE = (64, 64)
_SRGB = ImageCms.createProfile("sRGB")


def _open(path: str, *, exif: bool = True, icc: bool = True, alpha: str = "white") -> Image.Image:
    im = Image.open(path)
    im.load()
    if exif:
        im = ImageOps.exif_transpose(im)
    if icc and im.info.get("icc_profile") and im.mode in ("RGB", "RGBA"):
        src = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        im = ImageCms.profileToProfile(im, src, _SRGB, outputMode=im.mode)
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA") and alpha == "white":
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im.convert("RGBA"))
    return im.convert("RGB")


def reference(path: str) -> np.ndarray:
    return np.asarray(_open(path).resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0


def equivalent_numpy_division(path: str) -> np.ndarray:
    arr = np.array(_open(path).resize(SIZE, resample=Image.Resampling.BILINEAR))
    return (arr / 255.0).astype(np.float32)


def serve_raw_uint8(path: str) -> np.ndarray:
    return np.asarray(_open(path).resize(SIZE, Image.BILINEAR))


def serve_opencv_bgr(path: str) -> np.ndarray:
    rgb = np.asarray(_open(path).resize(SIZE, Image.BILINEAR))
    return rgb[..., ::-1].astype(np.float32) / 255.0  # what cv2 code hands over without cvtColor


def serve_torch_normalize(path: str) -> np.ndarray:
    x = reference(path)
    return ((x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)).astype(np.float32)


def serve_float64(path: str) -> np.ndarray:
    return np.asarray(_open(path).resize(SIZE, Image.BILINEAR)) / 255.0


def serve_chw(path: str) -> np.ndarray:
    return np.transpose(reference(path), (2, 0, 1))


def serve_other_size(path: str) -> np.ndarray:
    return np.asarray(_open(path).resize((48, 48), Image.BILINEAR), dtype=np.float32) / 255.0


def serve_no_exif(path: str) -> np.ndarray:
    return np.asarray(_open(path, exif=False).resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0


def serve_no_icc(path: str) -> np.ndarray:
    return np.asarray(_open(path, icc=False).resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0


def serve_alpha_dropped(path: str) -> np.ndarray:
    return np.asarray(_open(path, alpha="drop").resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0


def serve_opencv_resize(path: str) -> np.ndarray:
    import cv2

    rgb = np.asarray(_open(path))
    return cv2.resize(rgb, SIZE, interpolation=cv2.INTER_NEAREST).astype(np.float32) / 255.0


def serve_center_crop(path: str) -> np.ndarray:
    im = _open(path)
    side = min(im.size)
    left, top = (im.width - side) // 2, (im.height - side) // 2
    im = im.crop((left, top, left + side, top + side))
    return np.asarray(im.resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0


def serve_random_flip(path: str) -> np.ndarray:
    x = reference(path)
    return x[:, ::-1].copy() if random.random() < 0.5 else x  # augmentation left on


def serve_mode_check(path: str) -> np.ndarray:
    with Image.open(path) as im:
        if im.mode not in ("RGB", "L"):
            raise ValueError(f"unsupported image mode {im.mode}")
    return reference(path)


def train_strict_decode(data: bytes) -> np.ndarray:
    """No resize: decoder-level comparisons. Pillow, strict about truncated files."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def serve_lenient_decode(data: bytes) -> np.ndarray:
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def serve_tf_fast_idct(data: bytes) -> np.ndarray:
    """tf.io.decode_jpeg's default (fast integer IDCT); PNGs through decode_png."""
    import tensorflow as tf

    if data[:3] == b"\xff\xd8\xff":
        image = tf.io.decode_jpeg(data, channels=3)
    else:
        return train_strict_decode(data)
    return (tf.cast(image, tf.float32) / 255.0).numpy()


def serve_watermark(path: str) -> np.ndarray:
    """Serving stamps a logo in a corner: no decode/resize/value cause explains it."""
    x = reference(path).copy()
    x[:20, :20] = 1.0
    return x


def serve_opencv_bgr_nearest(path: str) -> np.ndarray:
    """Two causes at once: BGR and another resize (cv2 code without cvtColor, INTER_NEAREST)."""
    import cv2

    rgb = np.asarray(_open(path))
    small = cv2.resize(rgb, SIZE, interpolation=cv2.INTER_NEAREST)
    return small[..., ::-1].astype(np.float32) / 255.0


def serve_center_crop_75(path: str) -> np.ndarray:
    """A 75 % centre crop before the resize (a service that zooms in), aspect ratio kept."""
    im = _open(path)
    w, h = im.size
    cw, ch = round(w * 0.75), round(h * 0.75)
    left, top = (w - cw) // 2, (h - ch) // 2
    return np.asarray(im.crop((left, top, left + cw, top + ch)).resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0
