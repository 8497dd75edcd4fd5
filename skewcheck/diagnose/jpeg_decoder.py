"""jpeg-decoder: small, evenly spread differences on a JPEG that was not resized.

Cause: libjpeg's IDCT method (tf.io.decode_jpeg defaults to the fast integer IDCT, PIL and
OpenCV to the accurate one) or chroma upsampling (fancy vs nearest). Evidence: mean and max
difference on the 0-255 scale, the even spread (edge/flat ratio near 1), and the decoder's own
evidence on the image: at the file's own size, one side is libjpeg's accurate decode of the file
(Pillow's, the reference) and the other is another decoder's output of the same file (TensorFlow's
fast integer IDCT or its plain chroma upsampling, OpenCV's decode), within ``MATCHED`` of the
sides' difference. Without that (a resized tensor, both sides as far from the decode, or a side no
decoder reproduces) a small residual is not named a decoder difference: warps, rounding and
resamplers leave the same. Fix: decode with the same library and settings (tf:
``dct_method="INTEGER_ACCURATE"``). The side is the one farther from the accurate decode.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.reference import affine_residual, to_hwc3
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("jpeg-decoder",), reads=("alpha", "color-profile", "crop", "orientation", "resize"))

MAX_MEAN_255 = 4.0


def detect(ctx: PairContext) -> list[Observation]:
    stats, ref = ctx.residual_stats, ctx.reference
    if stats is None or not stats.significant or ref is None or ref.format != "JPEG":
        return []
    if ctx.found_kinds & {"alpha", "color-profile", "crop", "orientation", "resize"}:
        return []
    if stats.mean_abs_255 > MAX_MEAN_255:
        return []
    evidence = {
        "mean_abs_255": round(stats.mean_abs_255, 2),
        "max_abs_255": round(stats.max_abs_255, 1),
        "edge_ratio": round(stats.edge_ratio, 2),
    }
    measured = _measure_side(ctx)
    decoder = _other_decoder(ctx, measured) if measured != "unknown" else None
    if decoder is None:
        return []  # no decoder evidence on this image
    side = ctx.shared.setdefault("jpeg_decoder_side", measured)  # the first image that tells decides the run
    return [
        Observation(
            "jpeg-decoder",
            Severity.MINOR,
            side,
            {"decoder": decoder},
            f"small, evenly spread differences on a JPEG (mean {stats.mean_abs_255:.2f}/255, max "
            f"{stats.max_abs_255:.0f}/255): the JPEG decoders differ ({measured} matches {decoder}).",
            (
                f"Decode JPEGs in {side} with libjpeg's accurate IDCT like the other side"
                if side in ("train", "serve")
                else "Decode JPEGs with the same library on both sides"
            )
            + "; with TensorFlow pass dct_method='INTEGER_ACCURATE' to match PIL/OpenCV.",
            evidence["mean_abs_255"] / 255,
            measures=evidence,
            repair=("residual",),
        )
    ]


CLEAR = 0.7  # one side must be this much closer to the accurate decode than the other
MATCHED = 0.3  # another decoder names the off side when it leaves at most this share of the difference


def _measure_side(ctx: PairContext) -> str:
    ref = ctx.reference
    rgb = ref.rgb_oriented if ref is not None else None
    t, s = to_hwc3(ctx.train.tensor), to_hwc3(ctx.serve.tensor)
    if rgb is None or t is None or s is None or t.shape[:2] != rgb.shape[:2] or s.shape[:2] != rgb.shape[:2]:
        return "unknown"
    pixels = rgb.astype(np.float64)
    off = {"train": affine_residual(t, pixels), "serve": affine_residual(s, pixels)}
    if off["train"] <= CLEAR * off["serve"]:
        return "serve"
    if off["serve"] <= CLEAR * off["train"]:
        return "train"
    return "unknown"


def _other_decoder(ctx: PairContext, side: str) -> str | None:
    """The decoder whose output of this file the ``side`` tensor is (None: no decoder explains it)."""
    ref = ctx.reference
    tensor = to_hwc3(getattr(ctx, side).tensor)
    accurate = ref.rgb_oriented if ref is not None else None
    if ref is None or tensor is None or accurate is None:
        return None
    apart = affine_residual(tensor, accurate.astype(np.float64))
    if not apart:
        return None
    data = ref.file.read_bytes()
    for name, decode in _DECODERS.items():
        try:
            rgb = decode(data)
        except Exception:  # noqa: BLE001 (a decoder that refuses the file tells nothing)
            continue
        rgb = _oriented(rgb, ref.exif_orientation)
        if rgb.shape[:2] == tensor.shape[:2] and affine_residual(tensor, rgb.astype(np.float64)) <= MATCHED * apart:
            return name
    return None


def _oriented(rgb: np.ndarray, orientation: int) -> np.ndarray:
    from PIL import Image

    transpose = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE"}
    transpose |= {6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}
    if orientation not in transpose:
        return rgb
    return np.asarray(Image.fromarray(rgb).transpose(getattr(Image.Transpose, transpose[orientation])))


def _tf(dct_method: str, fancy: bool) -> Callable[[bytes], np.ndarray]:
    def decode(data: bytes) -> np.ndarray:
        from skewcheck.native import capture_native_stderr, import_tensorflow

        tf = import_tensorflow()
        with capture_native_stderr():
            image = tf.io.decode_jpeg(data, channels=3, dct_method=dct_method, fancy_upscaling=fancy)
        return image.numpy()

    return decode


def _opencv(data: bytes) -> np.ndarray:
    import cv2

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise ValueError("OpenCV cannot decode the file")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


_DECODERS = {
    "tf.io.decode_jpeg (fast integer IDCT)": _tf("INTEGER_FAST", True),
    "tf.io.decode_jpeg (fancy_upscaling=False)": _tf("INTEGER_ACCURATE", False),
    "tf.io.decode_jpeg (fast IDCT, fancy_upscaling=False)": _tf("INTEGER_FAST", False),
    "cv2.imdecode": _opencv,
}
