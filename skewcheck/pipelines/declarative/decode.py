"""The ``decode`` op: file bytes → H×W×C uint8 with Pillow, OpenCV or TensorFlow.

Each decoder is the plain library call plus the options the spec states. Options a library has
no switch for are done the way a user of that library would write them, in the open here:
EXIF orientation for TensorFlow is read with Pillow and undone with NumPy; ICC conversion for
OpenCV and TensorFlow goes through Pillow's ImageCms on the decoded RGB pixels; alpha compositing
outside Pillow is ``rgb * a + background * (1 - a)`` in NumPy.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageOps

from skewcheck.native import capture_native_stderr, import_tensorflow
from skewcheck.pipelines.declarative.spec import Decode

BACKGROUND = {"white": 255, "black": 0}
# What libjpeg / libpng print when they accept a damaged file (OpenCV has no strict switch).
DAMAGE_WARNING = re.compile(r"premature end|corrupt jpeg|truncated|libpng (error|warning)|invalid", re.IGNORECASE)

# EXIF orientation → the NumPy transform that undoes it, as ImageOps.exif_transpose does.
UNDO_ORIENTATION: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],  # Image.FLIP_LEFT_RIGHT
    3: lambda a: a[::-1, ::-1],  # Image.ROTATE_180
    4: lambda a: a[::-1],  # Image.FLIP_TOP_BOTTOM
    5: lambda a: a.swapaxes(0, 1),  # Image.TRANSPOSE
    6: lambda a: np.rot90(a, -1),  # Image.ROTATE_270 (Pillow rotates counter-clockwise)
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],  # Image.TRANSVERSE
    8: lambda a: np.rot90(a, 1),  # Image.ROTATE_90
}


def decode(data: bytes, step: Decode) -> np.ndarray:
    img = DECODERS[step.library](data, step)
    return np.ascontiguousarray(img[..., None] if img.ndim == 2 else img)


def decode_pil(data: bytes, step: Decode) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as opened:
        icc = opened.info.get("icc_profile")
        load_pil(opened, allow_truncated=step.truncated == "allow")
        im: Image.Image = opened
        if step.exif == "apply":
            im = ImageOps.exif_transpose(im)
        if step.alpha != "drop" and has_alpha(im):
            background = Image.new("RGBA", im.size, (BACKGROUND[step.alpha],) * 3 + (255,))
            im = Image.alpha_composite(background, im.convert("RGBA"))
        if step.icc == "to-srgb" and icc:
            source = im if im.mode in ("RGB", "CMYK", "L") else im.convert("RGB")
            converted = ImageCms.profileToProfile(
                source, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            im = converted if converted is not None else source  # None only with inPlace=True
        rgb = np.asarray(im.convert("L" if step.channels == 1 else "RGB"))
    return rgb[..., ::-1] if step.color == "bgr" else rgb


def decode_opencv(data: bytes, step: Decode) -> np.ndarray:
    import cv2

    buf = np.frombuffer(data, np.uint8)
    flags = cv2.IMREAD_GRAYSCALE if step.channels == 1 else cv2.IMREAD_COLOR
    if step.exif == "ignore":
        flags |= cv2.IMREAD_IGNORE_ORIENTATION
    with capture_native_stderr() as native:
        bgr = cv2.imdecode(buf, flags)
        if step.alpha != "drop":
            raw = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)  # the only flag that keeps alpha (and ignores EXIF)
            if raw is not None and raw.ndim == 3 and raw.shape[2] == 4:
                raw = np.right_shift(raw, 8).astype(np.uint8) if raw.dtype == np.uint16 else raw
                bgr = composite(raw[..., :3], raw[..., 3], BACKGROUND[step.alpha])
    if native.text:
        os.write(2, native.text.encode())  # pass the decoder's warnings on to the outcome
    if bgr is None:
        raise ValueError("cv2.imdecode returned None: OpenCV cannot decode the image")
    if step.truncated == "error" and DAMAGE_WARNING.search(native.text):
        raise ValueError(f"decode refused a damaged file (truncated = 'error'): {native.lines[0]}")
    if step.channels == 1:
        return bgr
    if step.icc == "to-srgb":
        icc = icc_profile(data)
        if icc is not None:
            bgr = cv2.cvtColor(to_srgb(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), icc), cv2.COLOR_RGB2BGR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if step.color == "rgb" else bgr


def decode_tf(data: bytes, step: Decode) -> np.ndarray:
    tf = import_tensorflow()
    is_jpeg = data[:2] == b"\xff\xd8"
    if is_jpeg and step.truncated == "allow":
        rgb = tf.io.decode_jpeg(
            data, channels=step.channels, try_recover_truncated=True, acceptable_fraction=0.0
        ).numpy()
    elif step.alpha != "drop" and not is_jpeg:
        rgba = tf.io.decode_image(data, channels=4, expand_animations=False).numpy()
        rgb = composite(rgba[..., :3], rgba[..., 3], BACKGROUND[step.alpha])
    else:
        rgb = tf.io.decode_image(data, channels=step.channels, expand_animations=False).numpy()
    if step.exif == "apply":
        rgb = UNDO_ORIENTATION.get(exif_orientation(data), lambda a: a)(rgb)
    if step.icc == "to-srgb" and step.channels == 3:
        icc = icc_profile(data)
        rgb = to_srgb(np.ascontiguousarray(rgb), icc) if icc is not None else rgb
    return rgb[..., ::-1] if step.color == "bgr" else rgb


DECODERS: dict[str, Callable[[bytes, Decode], np.ndarray]] = {
    "pil": decode_pil,
    "opencv": decode_opencv,
    "tf": decode_tf,
}


def load_pil(im: Image.Image, allow_truncated: bool) -> None:
    """``im.load()``; Pillow's switch for truncated files is module-global, so it is restored at once."""
    if not allow_truncated:
        im.load()
        return
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        im.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info)


def composite(color: np.ndarray, alpha: np.ndarray, background: int) -> np.ndarray:
    a = alpha[..., None].astype(np.float32) / 255.0
    return np.round(color * a + background * (1.0 - a)).astype(np.uint8)


def icc_profile(data: bytes) -> bytes | None:
    """The embedded ICC profile if it is an RGB one (a CMYK/grey profile does not fit RGB pixels)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            icc = im.info.get("icc_profile")
        if not icc:
            return None
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return icc if profile.profile.xcolor_space.strip() == "RGB" else None
    except Exception:  # noqa: BLE001 (bytes Pillow cannot read carry no profile it could use)
        return None


def to_srgb(rgb: np.ndarray, icc: bytes) -> np.ndarray:
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return np.asarray(
        ImageCms.profileToProfile(Image.fromarray(rgb), src, ImageCms.createProfile("sRGB"), outputMode="RGB")
    )


def exif_orientation(data: bytes) -> int:
    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 (no EXIF Pillow can read: nothing to undo)
        return 1
