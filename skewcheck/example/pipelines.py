"""The bundled example's two pipelines, written as the two teams of the seed incident wrote them.

Training (tf.data style): decode with TensorFlow, float32, divide by 255 — the model learned [0, 1].
Serving (a Python web service): decode with PIL and hand the pixels straight to the model —
raw uint8 in [0, 255]. Nothing raises; the model just sees inputs 255 times too large.
"""

from __future__ import annotations

import io

import numpy as np


def train_preprocess(data: bytes) -> np.ndarray:
    from skewcheck.native import import_tensorflow

    tf = import_tensorflow()
    image = tf.io.decode_png(data, channels=3)
    return (tf.cast(image, tf.float32) / 255.0).numpy()


def serve_preprocess(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def serve_preprocess_fixed(data: bytes) -> np.ndarray:
    """The fix: same decode, then float32 / 255 as in training."""
    return serve_preprocess(data).astype(np.float32) / 255.0
