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


# --- a text-direction classifier's input (fixtures/models/pad_chw.keras): 3×48×96 CHW in [-1, 1] ---
# As PaddleOCR's ``resize_norm_img``: cv2 decode → RGB, resize to height 48 with the aspect kept
# (width ceil(48·w/h), at most 96, cv2.INTER_LINEAR), /255, (x - 0.5) / 0.5, CHW, then zeros on
# the right: the padding is written after normalizing. Each ``ocr_serve_*`` makes one mistake.


def _cv2_rgb(path: str) -> np.ndarray:
    from pathlib import Path

    import cv2

    bgr = cv2.imdecode(np.frombuffer(Path(path).read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cv2.imdecode could not decode {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _ocr_resized(rgb: np.ndarray) -> np.ndarray:
    import math

    import cv2

    h, w = rgb.shape[:2]
    resized_w = min(W, max(1, math.ceil(H * w / h)))
    return cv2.resize(rgb, (resized_w, H), interpolation=cv2.INTER_LINEAR)


def _norm(x: np.ndarray) -> np.ndarray:
    return (x.astype(np.float32) / 255.0 - 0.5) / 0.5


def _right_pad_chw(content_hwc: np.ndarray, value: float = 0.0) -> np.ndarray:
    out = np.full((3, H, W), value, np.float32)
    out[:, :, : content_hwc.shape[1]] = content_hwc.transpose(2, 0, 1)
    return out


def ocr_reference(path: str) -> np.ndarray:
    return _right_pad_chw(_norm(_ocr_resized(_cv2_rgb(path))))


def ocr_equivalent_np_pad(path: str) -> np.ndarray:
    """The same tensor written another way: np.pad of the normalized HWC content, then transpose."""
    content = _norm(_ocr_resized(_cv2_rgb(path)))
    padded = np.pad(content, ((0, 0), (0, W - content.shape[1]), (0, 0)), constant_values=0.0)
    return np.ascontiguousarray(np.transpose(padded, (2, 0, 1)))


def ocr_serve_stretch(path: str) -> np.ndarray:
    """Stretched to the full width (no aspect kept), as a generic classifier service does."""
    import cv2

    return np.ascontiguousarray(
        _norm(cv2.resize(_cv2_rgb(path), (W, H), interpolation=cv2.INTER_LINEAR)).transpose(2, 0, 1)
    )


def ocr_serve_pad_before_norm(path: str) -> np.ndarray:
    """Pixels padded with black first, then the whole tensor normalized: the padding becomes -1."""
    content = _ocr_resized(_cv2_rgb(path))
    canvas = np.zeros((H, W, 3), np.uint8)
    canvas[:, : content.shape[1]] = content
    return np.ascontiguousarray(_norm(canvas).transpose(2, 0, 1))


def ocr_serve_centred(path: str) -> np.ndarray:
    """The same resize, but the content centred (cv2.copyMakeBorder on both sides) instead of left."""
    import cv2

    content = _norm(_ocr_resized(_cv2_rgb(path)))
    left = (W - content.shape[1]) // 2
    padded = cv2.copyMakeBorder(content, 0, 0, left, W - content.shape[1] - left, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return np.ascontiguousarray(padded.transpose(2, 0, 1))


def ocr_serve_unit(path: str) -> np.ndarray:
    """Content scaled to [0, 1] only (the (x - 0.5) / 0.5 forgotten), padding left at 0."""
    return _right_pad_chw(_ocr_resized(_cv2_rgb(path)).astype(np.float32) / 255.0)


def ocr_serve_hwc(path: str) -> np.ndarray:
    """The reference tensor left channels-last (no transpose to CHW)."""
    return np.ascontiguousarray(ocr_reference(path).transpose(1, 2, 0))


def ocr_serve_bgr(path: str) -> np.ndarray:
    """cv2.imdecode's BGR frame used as it is (no cvtColor)."""
    from pathlib import Path

    import cv2

    bgr = cv2.imdecode(np.frombuffer(Path(path).read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cv2.imdecode could not decode {path}")
    return _right_pad_chw(_norm(_ocr_resized(bgr)))


def write_wide_crops(root, count: int = 6) -> None:  # type: ignore[no-untyped-def]
    """Crops of scikit-image's bundled photos 2:1 to 3:1 wide (PNG), so some fill the full width."""
    from pathlib import Path

    import skimage.data

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    names = ("astronaut", "coffee", "chelsea", "rocket")
    for i in range(count):
        image = getattr(skimage.data, names[i % len(names)])()[..., :3]
        h, w = image.shape[:2]
        aspect = 2.0 + i * 0.2
        ch = min(h, int(w / aspect)) // 3
        cw = round(ch * aspect)
        top, left = (h - ch) // 3, (w - cw) // 4
        crop = Image.fromarray(np.ascontiguousarray(image[top : top + ch, left : left + cw]))
        crop.resize((cw // 2, ch // 2), Image.BICUBIC).save(root / f"wide{i}.png")
