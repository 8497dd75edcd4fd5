"""A BGR service with its own resize is channel-order + resize, never a colour round trip.

Regression: the round-trip candidates were scored in one channel order only, so on a swapped,
differently resized tensor every candidate fitted badly and a YUV round trip could win by
chance (14 of 200 benchmark images were reported as `color-conversion`).
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import skewcheck

SIZE = 64


def pil_train(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR), np.float32) / 255


def opencv_serve(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return cv2.resize(bgr, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255


@pytest.fixture(scope="module")
def crops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JPEG crops (256-480 px a side) of scikit-image's photos, as the throughput benchmark makes them;
    the Hubble deep field (nearly black, a few coloured points) is where the round trip won by chance."""
    import skimage.data

    names = ("hubble_deep_field", "astronaut", "hubble_deep_field", "coffee")
    photos = [np.asarray(getattr(skimage.data, n)())[..., :3] for n in names]
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp("crops")
    for i in range(24):
        photo = photos[i % len(photos)]
        h, w = (int(rng.integers(256, 481)) for _ in range(2))
        ch, cw = min(h, photo.shape[0]), min(w, photo.shape[1])
        y, x = int(rng.integers(0, photo.shape[0] - ch + 1)), int(rng.integers(0, photo.shape[1] - cw + 1))
        crop = Image.fromarray(photo[y : y + ch, x : x + cw]).resize((w, h), Image.Resampling.BICUBIC)
        crop.save(root / f"{i:03d}.jpg", quality=int(rng.integers(75, 96)))
    return root


def test_bgr_service_is_channel_order_and_resize_only(crops):
    report = skewcheck.compare(train=pil_train, serve=opencv_serve, images=crops)
    kinds = {f.kind for f in report.findings}
    assert kinds <= {"channel-order", "resize"}, [(f.kind, f.images, f.evidence) for f in report.findings]
    [resize] = [f for f in report.findings if f.kind == "resize"]
    assert resize.images == 24 and resize.evidence == {"train": "pil.bilinear", "serve": "opencv.INTER_LINEAR"}
