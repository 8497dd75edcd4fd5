"""The built-in transforms of a TOML ``--augment`` spec: one small function each, the library call
visible in it.

Each takes an H×W×C float32 image in [0, 1] (the train tensor mapped through its value range,
:mod:`skewcheck.augment.value_range`), a strength and a seeded ``np.random.Generator``, and
returns the transformed image in [0, 1]. A strength is a magnitude: 0 changes nothing and
larger is stronger, except ``jpeg-quality`` whose strength is the JPEG quality (lower is
stronger). Where a transform has a random direction (brighter or darker, which corner the crop
keeps), the generator picks it per image.

Geometric transforms also move boxes (``(N, 4)`` x1 y1 x2 y2 in pixels, edges at integer
coordinates): through the same 2×3 matrix that moved the pixels, so the targets stay with them.
Photometric transforms leave boxes as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

Image = np.ndarray
Boxes = np.ndarray
Rng = np.random.Generator


def _warp(image: Image, matrix: np.ndarray) -> Image:
    h, w = image.shape[:2]
    out = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return out.reshape(image.shape)  # cv2 drops a single channel axis


def _flip_h_matrix(image: Image, strength: float, rng: Rng) -> np.ndarray:
    w = image.shape[1]
    return np.array([[-1.0, 0.0, w - 1.0], [0.0, 1.0, 0.0]])


def _flip_v_matrix(image: Image, strength: float, rng: Rng) -> np.ndarray:
    h = image.shape[0]
    return np.array([[1.0, 0.0, 0.0], [0.0, -1.0, h - 1.0]])


def _rotate_matrix(image: Image, degrees: float, rng: Rng) -> np.ndarray:
    h, w = image.shape[:2]
    sign = 1.0 if degrees >= 180 else rng.choice([-1.0, 1.0])  # 180° is the same either way round
    return cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), sign * degrees, 1.0)


def _translate_matrix(image: Image, fraction: float, rng: Rng) -> np.ndarray:
    h, w = image.shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    return np.array([[1.0, 0.0, fraction * w * np.cos(angle)], [0.0, 1.0, fraction * h * np.sin(angle)]])


def _crop_scale_matrix(image: Image, fraction: float, rng: Rng) -> np.ndarray:
    """Keep a (1 - fraction) × side window at a random place and scale it back to the full size."""
    h, w = image.shape[:2]
    keep = max(1.0 - fraction, 1e-3)
    x0, y0 = rng.uniform(0, w * (1 - keep)), rng.uniform(0, h * (1 - keep))
    s = 1.0 / keep  # pixel-centre coordinates: x' = s·(x + 0.5 - x0) - 0.5
    return np.array([[s, 0.0, s * (0.5 - x0) - 0.5], [0.0, s, s * (0.5 - y0) - 0.5]])


def flip_h(image: Image, strength: float, rng: Rng) -> Image:
    return cv2.flip(image, 1).reshape(image.shape)


def flip_v(image: Image, strength: float, rng: Rng) -> Image:
    return cv2.flip(image, 0).reshape(image.shape)


def rotate(image: Image, degrees: float, rng: Rng) -> Image:
    return _warp(image, _rotate_matrix(image, degrees, rng))


def translate(image: Image, fraction: float, rng: Rng) -> Image:
    return _warp(image, _translate_matrix(image, fraction, rng))


def crop_scale(image: Image, fraction: float, rng: Rng) -> Image:
    return _warp(image, _crop_scale_matrix(image, fraction, rng))


def _signed(strength: float, rng: Rng) -> float:
    return float(strength * rng.choice([-1.0, 1.0]))


def brightness(image: Image, delta: float, rng: Rng) -> Image:
    return np.clip(image + _signed(delta, rng), 0.0, 1.0)


def contrast(image: Image, amount: float, rng: Rng) -> Image:
    mean = image.mean(axis=(0, 1), keepdims=True)
    return np.clip((image - mean) * (1.0 + _signed(amount, rng)) + mean, 0.0, 1.0)


def _hsv(image: Image) -> Image | None:
    return cv2.cvtColor(image, cv2.COLOR_RGB2HSV) if image.shape[2] == 3 else None  # H in degrees, S, V in [0, 1]


def saturation(image: Image, amount: float, rng: Rng) -> Image:
    hsv = _hsv(image)
    if hsv is None:
        return image  # a gray image has no saturation
    hsv[..., 1] = np.clip(hsv[..., 1] * (1.0 + _signed(amount, rng)), 0.0, 1.0)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def hue(image: Image, turn: float, rng: Rng) -> Image:
    """Rotate the hue by ``turn`` of the colour circle (0.5: opposite colours)."""
    hsv = _hsv(image)
    if hsv is None:
        return image
    hsv[..., 0] = np.mod(hsv[..., 0] + 360.0 * _signed(turn, rng), 360.0)
    return np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), 0.0, 1.0)


def blur(image: Image, sigma: float, rng: Rng) -> Image:
    if sigma <= 0:
        return image
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT_101).reshape(image.shape)


def noise(image: Image, std: float, rng: Rng) -> Image:
    return np.clip(image + rng.normal(0.0, std, image.shape).astype(np.float32), 0.0, 1.0)


def jpeg_quality(image: Image, quality: float, rng: Rng) -> Image:
    """Round-trip through a JPEG of this quality (OpenCV's libjpeg, 8-bit)."""
    pixels = np.round(image * 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, int(round(quality))])
    if not ok:
        raise ValueError(f"cv2.imencode refused a {pixels.shape} image")
    flag = cv2.IMREAD_GRAYSCALE if image.shape[2] == 1 else cv2.IMREAD_UNCHANGED
    decoded = cv2.imdecode(data, flag)
    if decoded is None:
        raise ValueError("cv2.imdecode could not read back its own JPEG")
    return (decoded.astype(np.float32) / 255.0).reshape(image.shape)


def cutout(image: Image, fraction: float, rng: Rng) -> Image:
    """Fill a square of ``fraction`` × the shorter side, at a random place, with 0."""
    h, w = image.shape[:2]
    side = int(round(fraction * min(h, w)))
    out = image.copy()
    if side > 0:
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        out[y : y + side, x : x + side] = 0.0
    return out


def move_boxes(boxes: Boxes, matrix: np.ndarray, width: int, height: int) -> Boxes:
    """The boxes' corners through ``matrix`` (pixel-centre coordinates), enclosed and clipped."""
    if not len(boxes):
        return boxes.reshape(0, 4)
    x1, y1, x2, y2 = (boxes[:, i] - 0.5 for i in range(4))  # edges → pixel-centre coordinates
    corners = np.stack([np.stack([x, y, np.ones_like(x)], -1) for x, y in ((x1, y1), (x2, y1), (x1, y2), (x2, y2))])
    moved = corners @ matrix.T + 0.5  # (4, N, 2), back to edge coordinates
    lo, hi = moved.min(axis=0), moved.max(axis=0)
    out = np.concatenate([lo, hi], axis=1)
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, width)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, height)
    return out


@dataclass(frozen=True)
class Builtin:
    apply: Callable[[Image, float, Rng], Image]
    default: tuple[float, float] | None  # the strength range when the spec gives none (None: no strength)
    unit: str
    matrix: Callable[[Image, float, Rng], np.ndarray] | None = None  # geometric: moves boxes too
    lower_is_stronger: bool = False


BUILTINS: dict[str, Builtin] = {
    "flip-h": Builtin(flip_h, None, "", _flip_h_matrix),
    "flip-v": Builtin(flip_v, None, "", _flip_v_matrix),
    "rotate": Builtin(rotate, (0.0, 30.0), "degrees", _rotate_matrix),
    "crop-scale": Builtin(crop_scale, (0.0, 0.5), "share of the side cut", _crop_scale_matrix),
    "translate": Builtin(translate, (0.0, 0.2), "share of the side", _translate_matrix),
    "brightness": Builtin(brightness, (0.0, 0.4), "± added, of the value range"),
    "contrast": Builtin(contrast, (0.0, 0.5), "± factor around the mean"),
    "saturation": Builtin(saturation, (0.0, 0.5), "± factor"),
    "hue": Builtin(hue, (0.0, 0.1), "± turn of the colour circle"),
    "blur": Builtin(blur, (0.0, 2.0), "Gaussian sigma, pixels"),
    "noise": Builtin(noise, (0.0, 0.1), "Gaussian std, of the value range"),
    "jpeg-quality": Builtin(jpeg_quality, (20.0, 95.0), "JPEG quality (lower is stronger)", lower_is_stronger=True),
    "cutout": Builtin(cutout, (0.0, 0.5), "share of the shorter side"),
}


def apply_with_boxes(name: str, image: Image, boxes: Boxes, strength: float, rng: Rng) -> tuple[Image, Boxes]:
    """A built-in on an image and its boxes: geometric ones draw their matrix once, for both."""
    spec = BUILTINS[name]
    if spec.matrix is None:
        return spec.apply(image, strength, rng), boxes
    h, w = image.shape[:2]
    matrix = spec.matrix(image, strength, rng)
    if name in ("flip-h", "flip-v"):
        moved = spec.apply(image, strength, rng)
    else:
        moved = _warp(image, matrix)
    return moved, move_boxes(boxes, matrix, w, h)
