"""Pipelines for the non-classifier fixtures (32×32×3), referenced as 'tests/output_pipelines.py:NAME'."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def _rgb32(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB").resize((32, 32), Image.BILINEAR), dtype=np.float32)


def train(data: bytes) -> np.ndarray:
    return _rgb32(data) / 255.0


def serve_same(data: bytes) -> np.ndarray:
    """Another, exactly equivalent implementation."""
    return _rgb32(data) * np.float32(1.0) / np.float32(255.0)


def serve_bgr(data: bytes) -> np.ndarray:
    return _rgb32(data)[..., ::-1] / 255.0


def serve_no_scale(data: bytes) -> np.ndarray:
    return _rgb32(data)
