"""Example thumbnails: how tensors are made viewable, and that the store stays bounded."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from skewcheck.report.thumbnails import (
    MAX_FINDINGS,
    PER_FINDING,
    THUMB_SIDE,
    ExampleStore,
    heat_map,
    png_base64,
    viewable,
)


def decode(b64: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
        return np.asarray(im)


def test_chw_is_moved_to_hwc_and_min_max_scaled_per_tensor():
    hwc = np.zeros((8, 6, 3), np.float32)
    hwc[..., 0] = 0.5  # red only, in [0, 0.5]
    chw = np.moveaxis(hwc, -1, 0)
    for tensor in (hwc, chw, hwc * 255, hwc - 3):  # scale and offset do not change the picture
        image = viewable(tensor)
        assert image.shape == (8, 6, 3) and image.dtype == np.uint8
        assert image[0, 0].tolist() == [255, 0, 0]


def test_bgr_is_shown_as_stored_so_a_swap_is_visible():
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 200
    assert viewable(rgb[..., ::-1])[0, 0].tolist() == [0, 0, 255]


def test_grey_constant_and_non_images():
    assert viewable(np.arange(12.0).reshape(3, 4)).shape == (3, 4)
    assert viewable(np.full((4, 4, 1), 7.0)).tolist() == np.zeros((4, 4), np.uint8).tolist()
    assert viewable(np.arange(10.0)) is None and viewable(np.array(["a", "b"])) is None


def test_heat_map_is_zero_where_equal_and_brightest_at_the_largest_difference():
    a = np.zeros((5, 5, 3), np.float32)
    b = a.copy()
    b[2, 3] = 4.0
    rgb, peak = heat_map(a, b)
    assert peak == 4.0 and rgb.shape == (5, 5, 3)
    assert rgb[0, 0].tolist() == [0, 0, 4] and rgb[2, 3].tolist() == [252, 255, 164]
    assert heat_map(a, b[:4]) is None


def test_thumbnails_are_at_most_128_px():
    big = (np.random.default_rng(0).random((300, 200, 3)) * 255).astype(np.uint8)
    assert decode(png_base64(big)).shape == (THUMB_SIDE, THUMB_SIDE * 200 // 300, 3)
    assert decode(png_base64(big[:32, :32])).shape == (32, 32, 3)  # small ones stay as they are


def test_store_keeps_the_worst_few_and_draws_only_those():
    store = ExampleStore()
    drawn = []

    def offer(key: str, score: float) -> None:
        store.offer(key, (score,), lambda: drawn.append(score) or {"score": score})

    for score in [5, 1, 9, 3, 7, 2, 8]:
        offer("k", score)
    assert [e["score"] for e in store.to_dict()["k"]] == [9, 8, 7]
    assert drawn == [5, 1, 9, 3, 7, 8]  # 2 was below the three kept when it came: never drawn
    for i in range(MAX_FINDINGS + 10):
        for score in range(20):
            offer(f"key{i}", score)
    kept = store.to_dict()
    assert len(kept) == MAX_FINDINGS and all(len(v) == PER_FINDING for v in kept.values())


def test_big_tensors_are_subsampled_before_any_float64_copy():
    big = np.zeros((3000, 2000, 3), np.float32)
    big[1500:, :, 1] = 1.0
    image = viewable(big)
    assert max(image.shape[:2]) <= 2 * THUMB_SIDE + 1 and image[-1, 0].tolist() == [0, 255, 0]
