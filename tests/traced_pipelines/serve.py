"""Serving pipelines, each with one cause of skew against train.preprocess (or none)."""

from __future__ import annotations

import sys

import numpy as np

from tests.traced_pipelines import decode, normalize, resize


def same(data: bytes) -> np.ndarray:
    """The training steps, written again: no skew."""
    pixels = decode.rgb(data)
    small = resize.halve(pixels)
    return normalize.to_unit(small)


def nearest(data: bytes) -> np.ndarray:
    """Resizes with the nearest pixel instead of the block mean."""
    img = decode.rgb(data)
    img = resize.nearest(img)
    x = normalize.to_unit(img)
    return x


def scale_first_then_nearest(data: bytes) -> np.ndarray:
    """The same resize cause, after the normalizing (the steps in another order)."""
    img = decode.rgb(data)
    x = normalize.to_unit(img)
    x = resize.nearest(x)
    return x


def bgr_scale_first(data: bytes) -> np.ndarray:
    """Decodes with OpenCV (BGR) and normalizes before halving: only the channel order differs."""
    img = decode.bgr(data)
    x = normalize.to_unit(img)
    x = resize.halve(x)
    return x.astype(np.float32)


def no_unit_scale(data: bytes) -> np.ndarray:
    """Forgets the / 255."""
    img = decode.rgb(data)
    img = resize.halve(img)
    x = normalize.to_float(img)
    return x


def fails_when_traced(data: bytes) -> np.ndarray:
    """Resizes like ``nearest`` but raises when skewcheck's line tracer watches it."""
    watching = getattr(sys.gettrace(), "__self__", None)
    if type(watching).__module__ == "skewcheck.trace.recorder":
        raise RuntimeError("traced")
    return nearest(data)
