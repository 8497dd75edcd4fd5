"""jpeg-decoder: small, evenly spread differences on a JPEG that was not resized.

Cause: libjpeg's IDCT method (tf.io.decode_jpeg defaults to the fast integer IDCT, PIL and
OpenCV to the accurate one) or chroma upsampling (fancy vs nearest). Evidence: mean and max
difference on the 0-255 scale, the even spread (edge/flat ratio near 1), and the decoder's own
evidence on the image: one side is libjpeg's accurate decode of the file (Pillow's, the
reference) and the other is another decoder's output of the same file (TensorFlow's fast integer
IDCT or its plain chroma upsampling, OpenCV's decode), within ``MATCHED`` of the sides'
difference (both decodes in sRGB where train applied the file's ICC profile); at the file's
own size, or both decodes resized by the method the side nearer the
accurate decode matches. Without that (both sides as far from the decode, or a side no decoder reproduces) a
small residual is not named a decoder difference: warps, rounding and resamplers leave the same. Fix: decode with the same library and settings (tf:
``dct_method="INTEGER_ACCURATE"``). The side is the one farther from the accurate decode.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.measure.pad_box import common_pad_box
from skewcheck.diagnose.measure.reference import SRGB, Reference, affine_residual, oriented, resampled_source, to_hwc3
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.replay import Candidate, at, moved
from skewcheck.findings import Observation, Severity


@dataclass
class JpegDecoderState:
    side: str | None = None  # the first image that tells decides the run


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
    views = _views(ctx)
    measured = _measure_side(ctx, views) if views is not None else "unknown"
    decoder = _other_decoder(ctx, measured, views) if views is not None and measured != "unknown" else None
    if decoder is None:
        return []  # no decoder evidence on this image
    state = ctx.run.of(JpegDecoderState)
    side = state.side = state.side or measured
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


def _views(ctx: PairContext) -> dict[str, tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]] | None:
    """Per side: its tensor (H×W×3) and how a decode of the file is brought to it: as it is at the
    file's own size, else resized by the method the side nearer the accurate decode matches (a
    decoder difference survives a resize both sides share; the other side's own match is blurred
    by the very difference looked for). Where both tensors are gray, a decode is first converted
    to gray as Pillow's ``convert("L")`` does (BT.601), then compared; where both pad the same
    region (a letterbox), their content alone is compared."""
    from skewcheck.diagnose.detectors.resize import closest_methods
    from skewcheck.diagnose.measure.rerender import candidates

    rgb = _accurate(ctx)
    tensors = _content({side: to_hwc3(getattr(ctx, side).tensor) for side in ("train", "serve")})
    if rgb is None or tensors is None:
        return None
    gray = all(_is_gray(x) for x in tensors.values() if x is not None)
    if gray:
        rgb = _gray3(rgb)
    resized = [x for x in tensors.values() if x is not None and x.shape[:2] != rgb.shape[:2]]
    method = None
    if resized:
        if any(x.shape[:2] != resized[0].shape[:2] for x in resized):
            return None  # resized to other sizes: not a decoder question
        method = min(closest_methods(resized, rgb), key=lambda named: named[1])[0]
    views: dict[str, tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]] = {}
    for side, x in tensors.items():
        assert x is not None
        if x.shape[:2] == rgb.shape[:2]:
            bring: Callable[[np.ndarray], np.ndarray] = _as_float
        else:
            assert method is not None
            bring = functools.partial(_resized, candidates()[method], x.shape[:2])
        views[side] = (x, functools.partial(_gray_then, bring) if gray else bring)
    return views


def _content(tensors: dict[str, np.ndarray | None]) -> dict[str, np.ndarray] | None:
    """Both tensors, cut to the content where both pad the same region (a letterbox each side
    frames alike: the decoders differ inside it, and the padding is no decode of the file)."""
    t, s = tensors["train"], tensors["serve"]
    if t is None or s is None:
        return None
    box = common_pad_box(t, s)
    if box is None:
        return {"train": t, "serve": s}
    top, bottom, left, right = box
    return {"train": t[top:bottom, left:right], "serve": s[top:bottom, left:right]}


def _is_gray(x: np.ndarray) -> bool:
    """An H×W×3 tensor whose three channels are one (a gray tensor, as to_hwc3 repeats it)."""
    return bool(np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 1], x[..., 2]))


def _gray3(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image

    return np.repeat(np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).convert("L"))[..., None], 3, axis=-1)


def _gray_then(bring: Callable[[np.ndarray], np.ndarray], rgb: np.ndarray) -> np.ndarray:
    return bring(_gray3(rgb))


def _accurate(ctx: PairContext) -> np.ndarray | None:
    """libjpeg's accurate decode of the file (Pillow's), oriented, and in sRGB where train applied
    the file's ICC profile (a decoder difference sits under a colour conversion both sides share)."""
    ref = ctx.reference
    if ref is None:
        return None
    return ref.source(resampled_source(ref, ctx.train.tensor))


def _decoded_as_train_sees(ref: Reference, rgb: np.ndarray, managed: bool) -> np.ndarray | None:
    """Another decoder's pixels of the file brought where the accurate decode was: sRGB, oriented."""
    if managed:
        converted = ref.to_srgb(rgb)
        if converted is None:
            return None
        rgb = converted
    return oriented(rgb, ref.exif_orientation)


def _as_float(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64)


def _resized(
    resize: Callable[[np.ndarray, tuple[int, int]], np.ndarray], hw: tuple[int, int], rgb: np.ndarray
) -> np.ndarray:
    return resize(rgb, hw)


def _measure_side(ctx: PairContext, views: dict) -> str:
    """The side farther from libjpeg's accurate decode of the file (Pillow's), brought to it."""
    rgb = _accurate(ctx)
    if rgb is None:
        return "unknown"
    off = {side: affine_residual(x, bring(rgb)) for side, (x, bring) in views.items()}
    if off["train"] <= CLEAR * off["serve"]:
        return "serve"
    if off["serve"] <= CLEAR * off["train"]:
        return "train"
    return "unknown"


def _other_decoder(ctx: PairContext, side: str, views: dict) -> str | None:
    """The decoder whose output of this file the ``side`` tensor is (None: no decoder explains it)."""
    ref = ctx.reference
    accurate = _accurate(ctx)
    if ref is None or accurate is None:
        return None
    managed = resampled_source(ref, ctx.train.tensor) == SRGB
    tensor, bring = views[side]
    apart = affine_residual(tensor, bring(accurate))
    if not apart:
        return None
    data = ref.file.read_bytes()
    for name, decode in _DECODERS.items():
        try:
            rgb = _decoded_as_train_sees(ref, decode(data), managed)
        except Exception:  # noqa: BLE001 (a decoder that refuses the file tells nothing)
            continue
        if (
            rgb is not None
            and rgb.shape[:2] == accurate.shape[:2]
            and affine_residual(tensor, bring(rgb)) <= MATCHED * apart
        ):
            return name
    return None


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


def replay() -> list[Candidate]:
    """The black-box replay's candidate (skewcheck/diagnose/replay.py): the file decoded by OpenCV."""
    return [
        Candidate(
            "OpenCV JPEG decoder",
            "jpeg-decoder",
            {"serve": "opencv"},
            "The serving stack decodes JPEG with OpenCV (libjpeg-turbo's other IDCT / chroma upsampling): decode with the training library.",
            moved(_opencv_jpeg, "jpeg-opencv"),
            True,
        )
    ]


def _opencv_jpeg(ref, hw: tuple[int, int]) -> np.ndarray | None:
    if ref.format != "JPEG" or ref.exif_orientation != 1:
        return None
    import cv2

    bgr = cv2.imdecode(np.frombuffer(ref.file.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    return None if bgr is None else at(np.ascontiguousarray(bgr[..., ::-1]), hw)


SPEC = DetectorSpec(
    kinds=("jpeg-decoder",),
    reads=("alpha", "color-profile", "crop", "orientation", "resize"),
    state=JpegDecoderState,
    replay=replay,
)
