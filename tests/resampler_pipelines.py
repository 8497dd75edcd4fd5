"""Resamplers beyond cv2.resize / PIL / tf.image.resize (issue 26), 48×48 RGB in [0, 1].

Referenced as 'tests/resampler_pipelines.py:NAME'. ``train`` is Pillow's bilinear resize; each
``serve_*`` resamples another way, written with the library a user would call.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

SIZE = (48, 48)


def _rgb(path: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def train(path: str) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0


def serve_warp_affine(path: str) -> np.ndarray:
    """A scale matrix through cv2.warpAffine (MediaPipe's ImageToTensor does this, rotated)."""
    rgb = _rgb(path)
    m = np.float32([[SIZE[0] / rgb.shape[1], 0, 0], [0, SIZE[1] / rgb.shape[0], 0]])
    out = cv2.warpAffine(rgb, m, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.astype(np.float32) / 255.0


def serve_align_corners(path: str) -> np.ndarray:
    """TF1's resize_bilinear(align_corners=True), as old exported graphs do."""
    import tensorflow as tf

    out = tf.compat.v1.image.resize_bilinear(_rgb(path)[None].astype(np.float32), SIZE, align_corners=True)
    return out[0].numpy() / 255.0


def serve_crop_and_resize(path: str) -> np.ndarray:
    """tf.image.crop_and_resize of the whole image (box 0, 0, 1, 1)."""
    import tensorflow as tf

    image = _rgb(path)[None].astype(np.float32)
    out = tf.image.crop_and_resize(image, [[0.0, 0.0, 1.0, 1.0]], [0], SIZE)
    return out[0].numpy() / 255.0


def serve_reducing_gap(path: str) -> np.ndarray:
    """Pillow's two-step shrink (reducing_gap=2, what Image.thumbnail uses)."""
    with Image.open(path) as im:
        out = im.convert("RGB").resize(SIZE, Image.BILINEAR, reducing_gap=2.0)
    return np.asarray(out, dtype=np.float32) / 255.0


def serve_area(path: str) -> np.ndarray:
    return cv2.resize(_rgb(path), SIZE, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def serve_skimage(path: str) -> np.ndarray:
    """scikit-image's resize (Gaussian anti-aliasing, then bilinear): none of the catalogue's methods."""
    from skimage.transform import resize

    return resize(_rgb(path), SIZE, anti_aliasing=True, order=1).astype(np.float32)


def train_warp_affine(path: str) -> np.ndarray:
    return serve_warp_affine(path)


def serve_warp_affine_float(path: str) -> np.ndarray:
    """The same corner-anchored warp in exact float arithmetic (scipy), on Pillow's decode: a
    correct port, apart from cv2's 1/32-pixel fixed-point interpolation weights."""
    from scipy.ndimage import affine_transform

    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=np.float64)
    sy, sx = rgb.shape[0] / SIZE[1], rgb.shape[1] / SIZE[0]
    out = affine_transform(rgb, np.diag([sy, sx, 1.0]), output_shape=(SIZE[1], SIZE[0], 3), order=1, mode="nearest")
    return (np.round(out) / 255.0).astype(np.float32)


def train_decode(path: str) -> np.ndarray:
    """No resize: the file's own pixels (Pillow: libjpeg's accurate IDCT)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def serve_decode_subpixel_warp(path: str) -> np.ndarray:
    """The same decode, then a warp by a quarter pixel at the file's own size: a small residual no
    JPEG decoder leaves."""
    rgb = _rgb(path)
    m = np.float32([[1, 0, 0.25], [0, 1, 0.25]])
    out = cv2.warpAffine(rgb, m, (rgb.shape[1], rgb.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.astype(np.float32) / 255.0


def serve_tf_fast_idct(path: str) -> np.ndarray:
    import tensorflow as tf

    with open(path, "rb") as f:
        return tf.io.decode_jpeg(f.read(), channels=3).numpy().astype(np.float32) / 255.0


def _flat(path: str, size: tuple[int, int] | None = None, resample: int = Image.BILINEAR) -> Image.Image:
    """The file in sRGB, transparency over white (what a careful decode does), resized if asked."""
    from PIL import ImageCms

    with Image.open(path) as im:
        icc = im.info.get("icc_profile")
        if icc:
            src = ImageCms.ImageCmsProfile(__import__("io").BytesIO(icc))
            im = ImageCms.profileToProfile(im.convert("RGB"), src, ImageCms.createProfile("sRGB"), outputMode="RGB")
        if im.mode in ("RGBA", "LA", "P"):
            rgba = im.convert("RGBA")
            im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        rgb = im.convert("RGB")
    return rgb.resize(size, resample) if size else rgb


def train_flat(path: str) -> np.ndarray:
    return np.asarray(_flat(path, SIZE), dtype=np.float32) / 255.0


def serve_flat_box(path: str) -> np.ndarray:
    """The same flattened pixels, resampled with Pillow's box filter."""
    return np.asarray(_flat(path, SIZE, Image.BOX), dtype=np.float32) / 255.0


def serve_flat_center_crop(path: str) -> np.ndarray:
    """The same flattened pixels, the centre 87.5 % kept before the resize (torchvision's eval)."""
    im = _flat(path)
    w, h = im.size
    dw, dh = round(w * 0.0625), round(h * 0.0625)
    return np.asarray(im.crop((dw, dh, w - dw, h - dh)).resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0


def serve_torchvision_eval(path: str) -> np.ndarray:
    """torchvision's Resize(256) + CenterCrop(224) framing: the centred square of 87.5 % of the
    short side, resized (train squashes the whole image)."""
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    w, h = rgb.size
    side = round(min(w, h) * 0.875)
    left, top = (w - side) // 2, (h - side) // 2
    return np.asarray(rgb.crop((left, top, left + side, top + side)).resize(SIZE, Image.BILINEAR), np.float32) / 255.0
