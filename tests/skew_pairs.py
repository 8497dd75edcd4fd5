"""Realistic pipeline pairs, written as users write them (PIL, OpenCV, tf.image), for the suite.

``reference`` is a careful training pipeline: EXIF applied, converted to sRGB, alpha composited
on white, resized with PIL bilinear to 64×64, float32 in [0, 1]. Each ``serve_*`` makes ONE
realistic mistake; ``equivalent_*`` are different code with exactly the same result.

Multi-cause serving paths (``serve_opencv_service``, ``serve_tf_data``) call the real libraries
(cv2.imdecode / cv2.resize, tf.io.decode_image / tf.image.resize). Each has one variant per cause,
``<pipeline>__fix_<cause>``: the same code with only that cause repaired, so the suite can measure
through the model what repairing each cause alone recovers (``FIX_VARIANTS`` maps them to the
finding kind they repair). Random augmentations draw from seeded module-level generators.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

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
    return ((x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)).astype(
        np.float32
    )


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


# Seeded, so a run is repeatable; the state advances with every call, as a live generator does.
_FLIP_P50 = random.Random(50)
_FLIP_P10 = random.Random(10)
_FLIP_LEGACY = random.Random(0)


def reseed() -> None:
    """Back to the first draw (the suite calls it before each audit, so rows do not share history)."""
    _FLIP_P50.seed(50)
    _FLIP_P10.seed(10)
    _FLIP_LEGACY.seed(0)


def serve_random_flip(path: str) -> np.ndarray:
    x = reference(path)
    return x[:, ::-1].copy() if _FLIP_LEGACY.random() < 0.5 else x  # augmentation left on


def serve_random_flip_p50(path: str) -> np.ndarray:
    x = reference(path)
    return x[:, ::-1].copy() if _FLIP_P50.random() < 0.5 else x


def serve_random_flip_p10(path: str) -> np.ndarray:
    x = reference(path)
    return x[:, ::-1].copy() if _FLIP_P10.random() < 0.1 else x


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
    """A 75 % centre crop (each side) before the same PIL bilinear resize: a crop, not a resize."""
    im = _open(path)
    w, h = round(im.width * 0.75), round(im.height * 0.75)
    left, top = (im.width - w) // 2, (im.height - h) // 2
    im = im.crop((left, top, left + w, top + h))
    return np.asarray(im.resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0


def serve_alpha_only(path: str) -> np.ndarray:
    """The reference, except transparency: ``convert("RGB")`` drops alpha instead of compositing."""
    im = ImageOps.exif_transpose(Image.open(path))
    if im.info.get("icc_profile") and im.mode in ("RGB", "RGBA"):
        src = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        im = ImageCms.profileToProfile(im, src, _SRGB, outputMode=im.mode)
    return np.asarray(im.convert("RGB").resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0


# --- multi-cause serving paths, real library calls -------------------------------------------


def _file_icc(path: str) -> bytes | None:
    with Image.open(path) as im:
        return im.info.get("icc_profile")


def _exif_orientation(path: str) -> int:
    with Image.open(path) as im:
        return int(im.getexif().get(0x0112, 1) or 1)


def _to_srgb(rgb: np.ndarray, icc: bytes | None) -> np.ndarray:
    """ImageCms as in ``reference``, on an RGB uint8 array."""
    if not icc:
        return rgb
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return np.asarray(ImageCms.profileToProfile(Image.fromarray(rgb), src, _SRGB, outputMode="RGB"))


def _on_white(rgba: np.ndarray) -> np.ndarray:
    """Alpha composited on white exactly as ``reference`` does (channel order does not matter)."""
    over = Image.alpha_composite(
        Image.new("RGBA", rgba.shape[1::-1], (255, 255, 255, 255)), Image.fromarray(rgba, "RGBA")
    )
    return np.asarray(over.convert("RGB"))


def _pil_bilinear(array: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(array).resize(SIZE, Image.BILINEAR))


def _opencv_service(
    path: str, *, rgb: bool = False, pil_resize: bool = False, icc: bool = False, alpha: bool = False
) -> np.ndarray:
    """An OpenCV service: imdecode (applies EXIF, ignores ICC, drops alpha), INTER_LINEAR, /255, BGR."""
    import cv2

    buf = np.frombuffer(Path(path).read_bytes(), np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cv2.imdecode could not decode {path}")
    if alpha:  # __fix_alpha: read the alpha plane too and composite on white
        raw = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        if raw is not None and raw.ndim == 3 and raw.shape[2] == 4 and raw.dtype == np.uint8:
            bgr = _on_white(raw)
    if icc:  # __fix_icc: convert the file's embedded profile to sRGB
        bgr = _to_srgb(bgr[..., ::-1].copy(), _file_icc(path))[..., ::-1].copy()
    if rgb:  # __fix_channel_order
        bgr = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if pil_resize:  # __fix_resize
        small = _pil_bilinear(np.ascontiguousarray(bgr))
    else:
        small = cv2.resize(bgr, SIZE, interpolation=cv2.INTER_LINEAR)
    return small.astype(np.float32) / 255.0


def serve_opencv_service(path: str) -> np.ndarray:
    """BGR + INTER_LINEAR + no colour management + alpha dropped: cv2 code without cvtColor."""
    return _opencv_service(path)


def serve_opencv_service__fix_channel_order(path: str) -> np.ndarray:
    return _opencv_service(path, rgb=True)


def serve_opencv_service__fix_resize(path: str) -> np.ndarray:
    return _opencv_service(path, pil_resize=True)


def serve_opencv_service__fix_icc(path: str) -> np.ndarray:
    return _opencv_service(path, icc=True)


def serve_opencv_service__fix_alpha(path: str) -> np.ndarray:
    return _opencv_service(path, alpha=True)


_ORIENT = {  # EXIF orientation → (tf.image.rot90 k, counter-clockwise; flip left-right first)
    1: (0, False),
    2: (0, True),
    3: (2, False),
    4: (2, True),
    5: (1, True),
    6: (3, False),
    7: (3, True),
    8: (1, False),
}


def _tf_data(
    path: str,
    *,
    exif: bool = False,
    icc: bool = False,
    antialias: bool = False,
    alpha: bool = False,
    accurate_idct: bool = False,
) -> np.ndarray:
    """A tf.data map function: decode_image (no EXIF, no ICC, alpha dropped), resize without antialias."""
    import tensorflow as tf

    data = tf.io.read_file(path)
    if accurate_idct and tf.io.is_jpeg(data):  # __fix_jpeg_decoder: libjpeg's accurate IDCT, as Pillow
        image = tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE")
    else:
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
    if alpha:  # __fix_alpha
        full = tf.io.decode_image(data, expand_animations=False)
        if full.shape[-1] == 4:
            image = tf.constant(_on_white(full.numpy()))
    if exif:  # __fix_orientation
        k, mirror = _ORIENT.get(_exif_orientation(path), (0, False))
        image = tf.image.rot90(tf.image.flip_left_right(image) if mirror else image, k=k)
    if icc:  # __fix_icc
        image = tf.constant(_to_srgb(image.numpy(), _file_icc(path)))
    if antialias:  # __fix_resize: PIL bilinear (antialiased when shrinking), as in training
        return _pil_bilinear(image.numpy()).astype(np.float32) / 255.0
    small = tf.image.resize(image, SIZE, method="bilinear", antialias=False)
    return (small / 255.0).numpy().astype(np.float32)


def serve_tf_data(path: str) -> np.ndarray:
    """No EXIF + no ICC + no antialias (+ alpha dropped and the fast IDCT: decode_image's defaults)."""
    return _tf_data(path)


def serve_tf_data__fix_orientation(path: str) -> np.ndarray:
    return _tf_data(path, exif=True)


def serve_tf_data__fix_icc(path: str) -> np.ndarray:
    return _tf_data(path, icc=True)


def serve_tf_data__fix_resize(path: str) -> np.ndarray:
    return _tf_data(path, antialias=True)


def serve_tf_data__fix_alpha(path: str) -> np.ndarray:
    return _tf_data(path, alpha=True)


def serve_tf_data__fix_jpeg_decoder(path: str) -> np.ndarray:
    return _tf_data(path, accurate_idct=True)


def serve_opencv_bgr_nearest__fix_channel_order(path: str) -> np.ndarray:
    import cv2

    rgb = np.asarray(_open(path))
    return cv2.resize(rgb, SIZE, interpolation=cv2.INTER_NEAREST).astype(np.float32) / 255.0


def serve_opencv_bgr_nearest__fix_resize(path: str) -> np.ndarray:
    rgb = np.asarray(_open(path).resize(SIZE, Image.BILINEAR))
    return rgb[..., ::-1].astype(np.float32) / 255.0


# serve pipeline → {variant with only that cause repaired: the finding kind it repairs}
FIX_VARIANTS = {
    "serve_opencv_service": {
        "serve_opencv_service__fix_channel_order": "channel-order",
        "serve_opencv_service__fix_resize": "resize",
        "serve_opencv_service__fix_icc": "color-profile",
        "serve_opencv_service__fix_alpha": "alpha",
    },
    "serve_tf_data": {
        "serve_tf_data__fix_orientation": "orientation",
        "serve_tf_data__fix_icc": "color-profile",
        "serve_tf_data__fix_resize": "resize",
        "serve_tf_data__fix_alpha": "alpha",
        "serve_tf_data__fix_jpeg_decoder": "jpeg-decoder",
    },
    "serve_opencv_bgr_nearest": {
        "serve_opencv_bgr_nearest__fix_channel_order": "channel-order",
        "serve_opencv_bgr_nearest__fix_resize": "resize",
    },
}


# --- colour conversions between 3-channel tensors (issue 17) ---------------------------------


def serve_gray_replicated(path: str) -> np.ndarray:
    """Pillow's gray replicated to three channels (convert("L").convert("RGB")) where training is colour."""
    return np.asarray(_open(path).convert("L").convert("RGB").resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0


def serve_cv2_yuv_round_trip(path: str) -> np.ndarray:
    """A camera path's YUV frame: the resized RGB through cv2.COLOR_RGB2YUV and back (uint8)."""
    import cv2

    small = np.asarray(_open(path).resize(SIZE, Image.BILINEAR))
    back = cv2.cvtColor(cv2.cvtColor(small, cv2.COLOR_RGB2YUV), cv2.COLOR_YUV2RGB)
    return back.astype(np.float32) / 255.0


def serve_pil_ycbcr_round_trip(path: str) -> np.ndarray:
    """A decode kept in YCbCr and converted back with Pillow (convert("YCbCr") → "RGB") before the resize."""
    im = _open(path).convert("YCbCr").convert("RGB")
    return np.asarray(im.resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255.0
