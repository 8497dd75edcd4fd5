"""Shared fixtures: tiny images and pipelines written as users write them."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parents[1]


def photo_like(seed: int, size: int = 24) -> np.ndarray:
    """A smooth, asymmetric RGB image: gradients per channel plus seeded blobs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    channels = []
    for c in range(3):
        a, b, ph = rng.uniform(0.5, 3, 3)
        channels.append(0.5 + 0.45 * np.sin(a * 3 * x + b * 2 * y + ph * (c + 1)))
    rgb = np.stack(channels, -1)
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def write_png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    """Six small PNGs in two folders, plus one text file named .jpg (production garbage)."""
    root = tmp_path / "images"
    for i in range(6):
        write_png(root / ("a" if i < 3 else "b") / f"img{i}.png", photo_like(i))
    (root / "b" / "notes.jpg").write_text("this is not an image\n")
    return root


def jpeg_bytes(array: np.ndarray, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture
def run_from_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository root: pipeline references like 'tests/x.py:fn' are relative to it."""
    monkeypatch.chdir(REPO)
