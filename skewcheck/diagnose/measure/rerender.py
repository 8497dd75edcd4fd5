"""Re-render an original image with each library's resize methods, to name what a side used.

Every candidate is the declarative ``resize`` op (skewcheck/pipelines/declarative/geometry.py, a
clean-fid-style ``{library: {method: constant}}`` table), labelled with the library's own constant
name. TensorFlow candidates are tried whenever TensorFlow is installed, so the names never depend
on what happened to be imported before.
"""

from __future__ import annotations

import functools
import mmap
import sys
import weakref
from collections.abc import Callable

import numpy as np

from skewcheck.pipelines.declarative import geometry
from skewcheck.pipelines.declarative.spec import Resize

Resizer = Callable[[np.ndarray, tuple[int, int]], np.ndarray]  # (rgb uint8, (h, w)) -> float64


def _step(library: str, method: str, antialias: bool = False) -> Resizer:
    """A candidate is the declarative ``resize`` op itself: one table of library calls, not two."""

    def render(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        return geometry.resize(rgb, Resize((int(hw[0]), int(hw[1])), library, method, antialias))

    return _memoised((library, method, antialias), render)


def _memoised(name: tuple, render: Callable[[np.ndarray, tuple[int, int]], np.ndarray]) -> Resizer:
    def resize(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        key = (*name, int(hw[0]), int(hw[1]))
        memo = _memo_for(rgb)
        if memo is not None:
            key += _window(rgb)
            if key in memo:
                return memo[key].copy()
        out = np.asarray(render(rgb, hw)).reshape(hw[0], hw[1], -1).astype(np.float64)
        if memo is not None and len(memo) < _MEMO_PER_IMAGE and out.nbytes <= _MEMO_MAX_BYTES:
            memo[key] = out.copy()
        return out

    return resize


def _warp(anchor: str) -> Resizer:
    """Resampling by an affine warp rather than a resize: ``corner`` maps pixel corners to pixel
    corners with no half-pixel shift (``cv2.warpAffine`` with a plain scale matrix, as MediaPipe's
    ImageToTensor and many hand-written letterboxes do); ``align-corners`` maps the first and last
    pixel centres onto each other (TF1 ``resize_bilinear(align_corners=True)``, PyTorch
    ``align_corners=True``, ``tf.image.crop_and_resize`` of the whole image)."""

    def render(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        import cv2

        (h, w), (hs, ws) = hw, rgb.shape[:2]
        if anchor == "corner":
            sx, sy = w / ws, h / hs
        else:
            sx, sy = (w - 1) / max(ws - 1, 1), (h - 1) / max(hs - 1, 1)
        matrix = np.array([[sx, 0.0, 0.0], [0.0, sy, 0.0]])
        return cv2.warpAffine(rgb, matrix, (int(w), int(h)), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    return _memoised(("warp", anchor), render)


def _pil_reducing_gap(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Pillow's two-step shrink (``reducing_gap=2``, what ``Image.thumbnail`` uses): a box reduce by
    an integer factor, then bilinear."""
    from PIL import Image

    im = Image.fromarray(rgb)
    return np.asarray(im.resize((int(hw[1]), int(hw[0])), Image.Resampling.BILINEAR, reducing_gap=2.0))


# Renders of one decoded file, memoised: channel-order, crop, orientation and the attribution
# repairs re-render the same pixels at the same size several times per image (the squash
# rendering alone ~5 times). Only a read-only array over immutable bytes is memoised (what
# ``np.asarray`` makes of a Pillow image, as the Reference holds, or a window of it), keyed on
# the array it views while that array is alive (a weak reference): a render never outlives its
# image and is never served for pixels that changed.
_MEMO_PER_IMAGE, _MEMO_MAX_BYTES = 32, 4 << 20  # at most 128 MiB of renders per live image
_MEMOS: dict[int, tuple[weakref.ref, dict[tuple, np.ndarray]]] = {}


def renders_of(rgb: np.ndarray) -> dict[tuple, np.ndarray]:
    """The renders memoised for the pixels ``rgb`` belongs to (a copy; empty when none)."""
    memo = _memo_for(rgb)
    return dict(memo) if memo else {}


def adopt(rgb: np.ndarray, renders: dict[tuple, np.ndarray]) -> None:
    """Memoise renders drawn elsewhere (a worker) of the same pixels: ``rgb`` must lay them out
    as the array they were drawn from did (the keys name windows by offset, shape and strides)."""
    memo = _memo_for(rgb)
    if memo is None:
        return
    for key, out in renders.items():
        if len(memo) >= _MEMO_PER_IMAGE:
            return
        memo.setdefault(key, out)


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _memo_for(rgb: np.ndarray) -> dict[tuple, np.ndarray] | None:
    if not isinstance(rgb, np.ndarray) or rgb.flags.writeable:
        return None
    root = _root(rgb)
    if root.flags.writeable or not _immutable(root.base):
        return None  # only pixels nobody can write (Pillow's decoded bytes), never a view of a live buffer
    entry = _MEMOS.get(id(root))
    if entry is not None and entry[0]() is root:
        return entry[1]
    key = id(root)

    def forget(r: weakref.ref) -> None:
        if _MEMOS.get(key, (None,))[0] is r:
            _MEMOS.pop(key)

    try:
        ref = weakref.ref(root, forget)
    except TypeError:
        return None
    _MEMOS[id(root)] = (ref, {})
    return _MEMOS[id(root)][1]


def _immutable(base: object) -> bool:
    """Bytes, or a read-only map of a file nobody holds open for writing (skewcheck/execution/handoff.py;
    numpy views a map through a memoryview of it)."""
    if isinstance(base, memoryview):
        return base.readonly and isinstance(base.obj, (bytes, mmap.mmap))
    return isinstance(base, bytes)


def _window(rgb: np.ndarray) -> tuple:
    """Which pixels of its root array ``rgb`` shows: data offset, shape, strides, dtype."""
    offset = rgb.__array_interface__["data"][0] - _root(rgb).__array_interface__["data"][0]
    return (offset, rgb.shape, rgb.strides, rgb.dtype.str)


# Labels name the library's own constant, as a user would recognise it in their code.
RESIZERS: dict[str, Resizer] = {
    "pil.nearest": _step("pil", "nearest"),
    "pil.bilinear": _step("pil", "bilinear"),
    "pil.bicubic": _step("pil", "bicubic"),
    "pil.lanczos": _step("pil", "lanczos"),
    "pil.box": _step("pil", "area"),
    "opencv.INTER_NEAREST": _step("opencv", "nearest"),
    "opencv.INTER_LINEAR": _step("opencv", "bilinear"),
    "opencv.INTER_CUBIC": _step("opencv", "bicubic"),
    "opencv.INTER_AREA": _step("opencv", "area"),
    "opencv.INTER_LANCZOS4": _step("opencv", "lanczos"),
    "opencv.warpAffine(corner-anchored)": _warp("corner"),
    "align-corners bilinear": _warp("align-corners"),
    "pil.bilinear(reducing_gap=2)": _memoised(("pil", "reducing_gap"), _pil_reducing_gap),
}
TF_RESIZERS: dict[str, Resizer] = {
    "tf.bilinear": _step("tf", "bilinear"),
    "tf.bilinear+antialias": _step("tf", "bilinear", antialias=True),
    "tf.nearest": _step("tf", "nearest"),
    "tf.bicubic": _step("tf", "bicubic"),
    "tf.area": _step("tf", "area"),
}

# What a search fits a side's resizer among when it re-renders the file many other ways too
# (padding, colour conversions): the usual four, or with four more where a convention is fitted.
USUAL_RESIZERS = ("pil.bilinear", "opencv.INTER_LINEAR", "opencv.INTER_AREA", "pil.bicubic")
MORE_RESIZERS = (*USUAL_RESIZERS, "pil.box", "opencv.INTER_CUBIC", "pil.nearest", "opencv.INTER_NEAREST")


def candidates() -> dict[str, Resizer]:
    """Every library installed here, whatever was imported before: the same file gives the same
    names in a tensor-only audit and in a model audit (TensorFlow loads on first use)."""
    if _has_tensorflow():
        return {**RESIZERS, **TF_RESIZERS}
    return dict(RESIZERS)


@functools.lru_cache(maxsize=1)
def _has_tensorflow() -> bool:
    """Looked up once (a search of sys.path, per call it cost a worker 0.1 ms an image)."""
    import importlib.util

    return "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is not None


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


MAX_CANVAS = 4_000_000  # pixels a re-rendered framing may allocate, whatever the file's shape


def pad_to_aspect(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Letterbox: keep the whole image, pad with black to the aspect ratio of ``hw``.

    The canvas is bounded by :data:`MAX_CANVAS`: a 65500×1 file would otherwise need a 65500²
    canvas (12.9 GB). Beyond it the image is shrunk first (area resampling), which changes the
    rendering at the target size by less than a pixel of the target.
    """
    h, w = rgb.shape[:2]
    target = hw[1] / hw[0]
    canvas = (round(w / target), w) if w / h > target else (h, round(h * target))
    if canvas[0] * canvas[1] > MAX_CANVAS:
        shrink = (MAX_CANVAS / (canvas[0] * canvas[1])) ** 0.5
        small = (max(1, int(h * shrink)), max(1, int(w * shrink)))
        import cv2

        rgb = cv2.resize(np.ascontiguousarray(rgb), (small[1], small[0]), interpolation=cv2.INTER_AREA).reshape(
            *small, -1
        )
        h, w = small
        canvas = (max(h, round(w / target)), w) if w / h > target else (h, max(w, round(h * target)))
    out = np.zeros((canvas[0], canvas[1], rgb.shape[2] if rgb.ndim == 3 else 3), np.uint8)
    y0, x0 = (canvas[0] - h) // 2, (canvas[1] - w) // 2
    out[y0 : y0 + h, x0 : x0 + w] = rgb.reshape(h, w, -1)
    return out


GEOMETRIES: dict[str, Callable[[np.ndarray, tuple[int, int]], np.ndarray]] = {
    "squash": lambda rgb, hw: rgb,
    "center-crop": center_crop_to_aspect,
    "letterbox": pad_to_aspect,
}


CENTER_FRACTIONS = (1.0, 0.95, 0.9, 0.875, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5)  # 0.875: Resize(256) + CenterCrop(224)


def _zoom(rgb: np.ndarray, hw: tuple[int, int], fraction: float) -> np.ndarray:
    return center_fraction(rgb, fraction)


def center_fraction(rgb: np.ndarray, fraction: float) -> np.ndarray:
    """The centred window covering ``fraction`` of each side (a zoom crop, aspect kept)."""
    h, w = rgb.shape[:2]
    ch, cw = max(1, round(h * fraction)), max(1, round(w * fraction))
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return rgb[y0 : y0 + ch, x0 : x0 + cw]


def zoom_name(fraction: float) -> str:
    """The whole image (1.0) is a squash, whichever search names it: one framing, one name."""
    return "squash" if fraction == 1.0 else f"center-{fraction:.1%}".replace(".0%", "%")


def crop_zoom_name(fraction: float) -> str:
    return "center-crop" if fraction == 1.0 else f"center-crop-{fraction:.1%}".replace(".0%", "%")


def _crop_zoom(rgb: np.ndarray, hw: tuple[int, int], fraction: float) -> np.ndarray:
    """torchvision's eval framing on a non-square image: Resize(short side) + CenterCrop, i.e. the
    centred window of the target's aspect, then ``fraction`` of it (224/256 = 87.5 %)."""
    return center_fraction(center_crop_to_aspect(rgb, hw), fraction)


ZOOMS: dict[str, Callable[[np.ndarray, tuple[int, int]], np.ndarray]] = {
    **{zoom_name(f): functools.partial(_zoom, fraction=f) for f in CENTER_FRACTIONS},
    **{crop_zoom_name(f): functools.partial(_crop_zoom, fraction=f) for f in CENTER_FRACTIONS},
}


def zoom_names(aspect_differs: bool) -> tuple[str, ...]:
    """The zoom framings worth telling apart: on an image of the target's aspect, cropping to it
    first changes nothing (the two families are one)."""
    plain = tuple(zoom_name(f) for f in CENTER_FRACTIONS)
    return plain + tuple(crop_zoom_name(f) for f in CENTER_FRACTIONS) if aspect_differs else plain


def framing(name: str) -> Callable[[np.ndarray, tuple[int, int]], np.ndarray] | None:
    """A framing by its evidence name: squash, center-crop, letterbox or center-75% (a zoom crop)."""
    if name in GEOMETRIES:
        return GEOMETRIES[name]
    return ZOOMS.get(name)
