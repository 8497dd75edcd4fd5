"""The training pipeline: decode (RGB), halve, then scale to [0, 1]."""

from __future__ import annotations

import numpy as np

from tests.traced_pipelines import decode, normalize, resize


def preprocess(data: bytes) -> np.ndarray:
    img = decode.rgb(data)
    img = resize.halve(img)
    x = normalize.to_unit(img)
    return x
