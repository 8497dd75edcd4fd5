"""Pipeline building blocks: one config dict → one ``fn(path: str) -> np.ndarray``.

A pipeline is: decode (PIL or OpenCV; EXIF orientation; ICC → sRGB; alpha composited on a
background) → optional gray conversion → framing + resize to the model size → optional
quantization → optional transfer curve (sRGB linearized, a gamma) → value map (``/255``, ``[-1, 1]``, ImageNet mean/std …) → channel order → layout
→ dtype. ``REFERENCE`` is the careful training pipeline; a cause is a change of one or two keys
(benchmarks/skew_matrix/causes.py), an equivalent port a change of ``impl`` only.

Decoded images are cached per process (keyed by the decode settings), and so are whole tensors
(keyed by the config): the harness computes each case's tensors to measure the truth, and the
audit's calls of the same pipeline then cost a copy. Both caches are bounded.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image, ImageCms, ImageOps

REFERENCE: dict[str, Any] = {
    "decoder": "pil",  # pil | cv2 | tf-fast (tf.io.decode_jpeg, fast integer IDCT; other files by PIL)
    "exif": True,
    "icc": True,
    "alpha": "white",  # white | black | drop
    "color": "rgb",  # rgb | gray (the model takes one channel)
    "gray": "pil",  # pil | cv2 | tf | bt709 | mean | bgr-weights   (color == "gray" only)
    "gray3": False,  # colour replaced by gray replicated to three channels
    "framing": "stretch",  # stretch | center-crop | center-87 | letterbox
    "pad": 0,  # letterbox fill, pixel units
    "size": 64,  # None: keep the file's own size (a dynamic-size model)
    "resize": "pil.bilinear",
    "quant": None,  # None | intdiv | bits5 | bits3 | round
    "curve": None,  # None | srgb-to-linear | gamma-<γ>: a transfer curve on the pixel values (0-255)
    "value": "unit",  # unit | raw | tf | imagenet | imagenet-nostd | caffe | double
    "channels": "rgb",  # rgb | bgr
    "layout": "hwc",  # hwc | chw
    "dtype": "float32",
    "impl": "plain",  # equivalent ports: same numbers, other code
}
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
CAFFE_MEAN = np.array([103.939, 116.779, 123.68], np.float32)
_SRGB = ImageCms.createProfile("sRGB")
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class _Cache(OrderedDict):
    """A byte-bounded LRU of arrays."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes, self.bytes = max_bytes, 0

    def get_copy(self, key: Any) -> np.ndarray | None:
        if key not in self:
            return None
        self.move_to_end(key)
        return self[key].copy()

    def put(self, key: Any, value: np.ndarray) -> None:
        if key in self:
            return
        self[key] = value.copy()
        self.bytes += value.nbytes
        while self.bytes > self.max_bytes and len(self) > 1:
            _, old = self.popitem(last=False)
            self.bytes -= old.nbytes


DECODED = _Cache(400 << 20)
TENSORS = _Cache(200 << 20)


def _orientation(path: str) -> int:
    with Image.open(path) as im:
        return int(im.getexif().get(0x0112, 1))


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    if not icc or im.mode not in ("RGB", "RGBA"):
        return im
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return ImageCms.profileToProfile(im, src, _SRGB, outputMode=im.mode)


def _flatten(im: Image.Image, alpha: str) -> Image.Image:
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA") and alpha in ("white", "black"):
        fill = (255, 255, 255, 255) if alpha == "white" else (0, 0, 0, 255)
        im = Image.alpha_composite(Image.new("RGBA", im.size, fill), im.convert("RGBA"))
    return im.convert("RGB")


def decode(path: str, decoder: str, exif: bool, icc: bool, alpha: str, impl: str = "plain") -> np.ndarray:
    """RGB uint8, H × W × 3 (gray files replicated), cached per settings."""
    key = (path, decoder, exif, icc, alpha, impl == "exif_transpose")
    hit = DECODED.get_copy(key)
    if hit is not None:
        return hit
    with Image.open(path) as src:
        profile = src.info.get("icc_profile") if icc else None
        jpeg = src.format == "JPEG"
        if decoder == "pil" or (decoder == "tf-fast" and not jpeg):
            src.load()
            im = src.copy()
        else:
            im = None
    if im is None and decoder == "tf-fast":  # the fast IDCT; tf.io ignores EXIF and ICC, the code below does not
        import tensorflow as tf

        with open(path, "rb") as fh:
            arr = tf.io.decode_jpeg(fh.read(), channels=0, dct_method="INTEGER_FAST").numpy()
        im = Image.fromarray(arr[..., 0], "L") if arr.shape[2] == 1 else Image.fromarray(arr, "RGB")
    elif im is None:  # OpenCV decodes the pixels; the same EXIF / ICC / alpha code follows
        import cv2

        arr = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
        if arr.ndim == 2:
            im = Image.fromarray(arr, "L")
        elif arr.shape[2] == 4:
            im = Image.fromarray(cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA), "RGBA")
        else:
            im = Image.fromarray(cv2.cvtColor(arr, cv2.COLOR_BGR2RGB), "RGB")
    if exif:
        if impl == "exif_transpose" and decoder == "pil":
            with Image.open(path) as again:
                again.load()
                im = ImageOps.exif_transpose(again)
        else:
            tag = _orientation(path)
            if tag in _TRANSPOSE:
                im = im.transpose(_TRANSPOSE[tag])
    out = np.asarray(_flatten(_to_srgb(im, profile), alpha))
    DECODED.put(key, out)
    return out


def to_gray(rgb: np.ndarray, how: str) -> np.ndarray:
    """H × W uint8 gray by one library's or formula's convention."""
    if how == "pil":
        return np.asarray(Image.fromarray(rgb).convert("L"))
    if how in ("cv2", "bgr-weights"):
        import cv2

        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY if how == "cv2" else cv2.COLOR_BGR2GRAY)
    if how == "tf":
        import tensorflow as tf

        return tf.cast(tf.image.rgb_to_grayscale(tf.constant(rgb)), tf.uint8).numpy()[..., 0]
    weights = {"bt709": (0.2126, 0.7152, 0.0722), "mean": (1 / 3, 1 / 3, 1 / 3)}[how]
    return np.clip(np.round(rgb.astype(np.float64) @ np.array(weights)), 0, 255).astype(np.uint8)


_PIL = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "nearest": Image.NEAREST, "lanczos": Image.LANCZOS}
_PIL["box"] = Image.BOX


def resize(arr: np.ndarray, w: int, h: int, method: str) -> np.ndarray:
    """uint8 H × W × C → float32 h × w × C in pixel units (tf.image.resize does not round)."""
    lib, _, name = method.partition(".")
    if lib == "pil":
        im = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
        out = np.asarray(im.resize((w, h), _PIL[name]))
    elif lib == "cv2":
        import cv2

        flag = getattr(cv2, "INTER_" + name.upper())
        out = cv2.resize(arr, (w, h), interpolation=flag)
    else:
        import tensorflow as tf

        tf_method, aa = name.removesuffix("-aa"), name.endswith("-aa")
        out = tf.image.resize(tf.constant(arr, tf.float32), (h, w), method=tf_method, antialias=aa).numpy()
    out = out.reshape(h, w, -1)
    return out.astype(np.float32)


def frame(arr: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    size = cfg["size"]
    if size is None:
        return arr.astype(np.float32)
    h, w = arr.shape[:2]
    if cfg["framing"] in ("center-crop", "center-87"):
        side = min(h, w) if cfg["framing"] == "center-crop" else max(1, round(min(h, w) * 0.875))
        top, left = (h - side) // 2, (w - side) // 2
        arr = np.ascontiguousarray(arr[top : top + side, left : left + side])
    if cfg["framing"] != "letterbox":
        return resize(arr, size, size, cfg["resize"])
    k = size / max(h, w)
    nw, nh = max(1, round(w * k)), max(1, round(h * k))
    content = resize(arr, nw, nh, cfg["resize"])
    top, left = (size - nh) // 2, (size - nw) // 2
    if cfg["impl"] == "np_pad":
        pads = ((top, size - nh - top), (left, size - nw - left), (0, 0))
        return np.pad(content, pads, constant_values=float(cfg["pad"])).astype(np.float32)
    canvas = np.full((size, size, content.shape[2]), float(cfg["pad"]), np.float32)
    canvas[top : top + nh, left : left + nw] = content
    return canvas


def quantize(x: np.ndarray, how: str | None) -> np.ndarray:
    if how is None:
        return x
    if how == "round":  # rounded back to uint8 levels (tf.image.resize output cast to uint8)
        return np.clip(np.round(x), 0, 255)
    q = np.clip(np.round(x), 0, 255).astype(np.uint8)
    if how == "intdiv":  # a port that divides uint8 by 255 in integer arithmetic: 0 or 1
        return (q // 255).astype(np.float32) * 255
    bits = int(how.removeprefix("bits"))
    step = 1 << (8 - bits)
    return ((q // step) * step).astype(np.float32)


def curve(x: np.ndarray, how: str | None) -> np.ndarray:
    """A transfer curve on pixel values (float32, 0-255), before the value map: sRGB linearized
    (the IEC 61966-2-1 curve, as "linearize before the network" code writes it) or a plain power
    ``x ** γ`` (``gamma-2.2``: adjust_gamma, a gamma LUT), on [0, 1] and back to pixel units."""
    if how is None:
        return x
    u = np.clip(x / np.float32(255), 0, 1)
    if how == "srgb-to-linear":
        out = np.where(u <= 0.04045, u / np.float32(12.92), ((u + np.float32(0.055)) / np.float32(1.055)) ** 2.4)
    else:
        out = u ** np.float32(float(how.removeprefix("gamma-")))
    return (out * np.float32(255)).astype(np.float32)


def values(x: np.ndarray, how: str, impl: str) -> np.ndarray:
    if how == "raw":
        return x
    if how == "unit":
        if impl == "float64_div":
            return (x.astype(np.float64) / 255.0).astype(np.float32)
        if impl == "reciprocal":
            return x * np.float32(1 / 255)
        if impl == "tf_divide":
            import tensorflow as tf

            return (tf.constant(x) / 255.0).numpy()
        return x / np.float32(255)
    if how == "double":
        return x / np.float32(255) / np.float32(255)
    if how == "tf":
        return x / np.float32(127.5) - np.float32(1)
    if how == "caffe":  # BGR order is the channel step's business; mean subtraction only here
        return x - CAFFE_MEAN[::-1][: x.shape[-1]]
    unit = x / np.float32(255)
    if how == "imagenet-nostd":
        return unit - MEAN[: x.shape[-1]]
    if impl == "fused_affine":  # x · (1/(255·std)) − mean/std: the same map, other rounding
        return x * (1 / (np.float32(255) * STD[: x.shape[-1]])) - MEAN[: x.shape[-1]] / STD[: x.shape[-1]]
    return (unit - MEAN[: x.shape[-1]]) / STD[: x.shape[-1]]


def build(cfg: dict[str, Any], path: str) -> np.ndarray:
    rgb = decode(path, cfg["decoder"], cfg["exif"], cfg["icc"], cfg["alpha"], cfg["impl"])
    if cfg["impl"] == "cv2_roundtrip":
        import cv2

        rgb = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), cv2.COLOR_BGR2RGB)
    if cfg["color"] == "gray":
        arr = to_gray(rgb, cfg["gray"])[..., None]
    elif cfg["gray3"]:
        arr = np.repeat(to_gray(rgb, "pil")[..., None], 3, -1)
    else:
        arr = rgb
    x = curve(quantize(frame(arr, cfg), cfg["quant"]), cfg["curve"])
    x = values(x, cfg["value"], cfg["impl"]).astype(np.float32)
    if cfg["channels"] == "bgr" and x.shape[-1] == 3:
        x = x[..., ::-1]
    if cfg["impl"] == "chw_roundtrip":
        x = np.transpose(np.transpose(x, (2, 0, 1)), (1, 2, 0))
    if cfg["layout"] == "chw":
        x = np.transpose(x, (2, 0, 1))
    return np.ascontiguousarray(x).astype(cfg["dtype"])


def config_key(cfg: dict[str, Any]) -> tuple:
    return tuple(sorted((k, v) for k, v in cfg.items()))


def make(**changes: Any) -> Callable[[str], np.ndarray]:
    """The pipeline ``REFERENCE`` with ``changes``, as a function of the image path."""
    unknown = set(changes) - set(REFERENCE)
    if unknown:
        raise KeyError(f"unknown pipeline settings: {sorted(unknown)}")
    cfg = {**REFERENCE, **changes}
    key = config_key(cfg)

    def pipeline(path: str) -> np.ndarray:
        hit = TENSORS.get_copy((key, path))
        if hit is not None:
            return hit
        out = build(cfg, str(path))
        TENSORS.put((key, path), out)
        return out

    pipeline.config = cfg  # type: ignore[attr-defined]
    return pipeline
