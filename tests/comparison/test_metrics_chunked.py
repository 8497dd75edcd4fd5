"""Issue 10 item 9: tensor metrics are computed in blocks, without full float64 copies."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from skewcheck.comparison.metrics import tensor_metrics


def naive(train: np.ndarray, serve: np.ndarray) -> dict[str, float]:
    """The straightforward whole-array formula (what tensor_metrics computed before)."""
    a, b = train.astype(np.float64), serve.astype(np.float64)
    diff = np.abs(a - b)
    rmse = float(np.sqrt(np.mean(diff**2))) if diff.size else 0.0
    peak = float(np.max(a) - np.min(a)) if a.size else 0.0
    peak = peak if peak > 0 else 1.0
    if not (math.isfinite(rmse) and math.isfinite(peak)):
        psnr = math.nan
    else:
        psnr = math.inf if rmse == 0 else 20 * math.log10(peak / rmse)
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    cosine = 1.0 if na == 0 and nb == 0 else (float(np.vdot(a, b)) / (na * nb) if na and nb else 0.0)
    return {
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "mean_abs_diff": float(diff.mean()) if diff.size else 0.0,
        "rmse": rmse,
        "psnr": psnr,
        "cosine": cosine,
    }


def assert_same(got: dict[str, float], want: dict[str, float]) -> None:
    assert got.keys() == want.keys()
    for key in want:
        g, w = got[key], want[key]
        if math.isnan(w):
            assert math.isnan(g), key
        elif math.isinf(w):
            assert g == w, key
        else:
            assert g == pytest.approx(w, rel=1e-12, abs=1e-12), key


SHAPES = [(1,), (7,), (3, 5), (16, 16, 3), (2, 31, 17, 3)]


@pytest.mark.parametrize("chunk", [1, 5, 64, 1 << 20])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.float16])
def test_matches_the_whole_array_formula_on_random_tensors(dtype, chunk):
    rng = np.random.default_rng(hash((np.dtype(dtype).name, chunk)) % 2**32)
    for shape in SHAPES:
        if np.dtype(dtype).kind == "u":
            a = rng.integers(0, 256, shape).astype(dtype)
            b = np.clip(a.astype(int) + rng.integers(-3, 4, shape), 0, 255).astype(dtype)
        else:
            scale = 10.0 ** rng.integers(-3, 4)
            a = (rng.standard_normal(shape) * scale).astype(dtype)
            b = (a + rng.standard_normal(shape) * scale * 0.01).astype(dtype)
        assert_same(tensor_metrics(a, b, chunk=chunk), naive(a, b))
        assert_same(tensor_metrics(a, a, chunk=chunk), naive(a, a))


def test_non_contiguous_views_and_special_values():
    rng = np.random.default_rng(3)
    a = rng.random((40, 30, 3), dtype=np.float32)
    b = rng.random((3, 30, 40), dtype=np.float32).transpose(2, 1, 0)  # not contiguous
    assert_same(tensor_metrics(a, b, chunk=100), naive(a, b))
    assert_same(tensor_metrics(a[::2, ::-1], b[::2, ::-1], chunk=33), naive(a[::2, ::-1], b[::2, ::-1]))
    zeros = np.zeros((4, 4), np.float32)
    assert_same(tensor_metrics(zeros, zeros, chunk=3), naive(zeros, zeros))
    assert_same(tensor_metrics(zeros, zeros + 1, chunk=3), naive(zeros, zeros + 1))
    empty = np.zeros((0, 3), np.float32)
    assert_same(tensor_metrics(empty, empty), naive(empty, empty))
    for bad in (np.nan, np.inf, -np.inf):
        x = rng.random(50).astype(np.float32)
        y = x.copy()
        y[17] = bad
        assert_same(tensor_metrics(x, y, chunk=8), naive(x, y))
        assert_same(tensor_metrics(y, x, chunk=8), naive(y, x))


def test_a_256_mib_tensor_pair_needs_a_few_mib_not_gbs():
    base = np.random.default_rng(0).random(1 << 20, dtype=np.float32)
    train = np.tile(base, 64)  # 64 M float32 elements: 256 MiB
    serve = train[::-1]  # a view: the pair costs 256 MiB, and is the 64-fold tiling of (base, base[::-1])
    assert train.nbytes == 256 << 20
    tracemalloc.start()
    try:
        got = tensor_metrics(train, serve)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the whole-array formula allocates 3 float64 copies (1.5 GiB) and more; blocks need ~3 x 8 MiB
    assert peak < 64 << 20, f"peak {peak / 2**20:.0f} MiB"
    want = naive(base, base[::-1])
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-9), key
