"""Issue 24 item 4: one large tensor pair may cost about three tensors' size, not twelve.

The diagnosis (value fit, residual, tolerance, padding edges, repairs, attribution's differences,
repeat runs) works in blocks of rows or on the tensors' own dtype; on tensors of up to
``metrics.CHUNK`` elements the blocks are the whole array, so the numbers are the whole-array
formulas' (checked here against those formulas), and on larger ones they agree to float rounding.
Peak memory of the whole CLI is measured by benchmarks/tensor_memory.py.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import skewcheck
from skewcheck.comparison import metrics
from skewcheck.diagnose.measure import residual as residual_module
from skewcheck.diagnose.measure.fit import SAMPLE_PIXELS, ValueFit, _fit_whole, fit_values
from skewcheck.diagnose.measure.residual import abs_residual, residual_stats


def _old_stats(serve: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    """The whole-array formulas residual_stats had before it worked in blocks."""
    r = serve.astype(np.float64) - predicted
    span = float(serve.astype(np.float64).max() - serve.astype(np.float64).min()) or 1.0
    image = predicted if predicted.ndim == 2 else predicted.mean(axis=-1)
    gy, gx = np.gradient(image)
    grad = np.hypot(gx, gy)
    absr = np.abs(r) if r.ndim == 2 else np.abs(r).mean(axis=-1)
    hi, lo = grad >= np.quantile(grad, 0.8), grad <= np.quantile(grad, 0.5)
    edge = float(absr[hi].mean() / max(absr[lo].mean(), 1e-12))
    to255 = 255.0 / span
    return float(np.abs(r).mean()) * to255, float(np.abs(r).max()) * to255, edge


def _pair(shape, seed=0):
    rng = np.random.default_rng(seed)
    train = rng.random(shape, dtype=np.float32)
    serve = (train * 1.3 + 0.05 + rng.standard_normal(shape).astype(np.float32) * 0.01).astype(np.float32)
    return train, serve


FITS = [
    ValueFit("scale", factor=1.3),
    ValueFit("channel-affine", slope=(1.3, 1.2, 1.1), offset=(0.05, 0.0, -0.1)),
    ValueFit("scale", factor=1.3, box=(3, 20, 2, 25)),  # padding kept outside a content box
    ValueFit("permutation", permutation=(2, 1, 0)),
]


@pytest.mark.parametrize("fit", FITS, ids=lambda f: f.model + ("-box" if f.box else ""))
@pytest.mark.parametrize("chunk", [metrics.CHUNK, 50, 7])
def test_residual_stats_in_blocks_are_the_whole_array_numbers(fit, chunk):
    train, serve = _pair((24, 30, 3))
    want = _old_stats(serve, fit.apply(train))
    got = residual_stats(serve, train, fit, chunk=chunk)
    assert got is not None and got.shape == serve.shape
    assert got.max_abs_255 == want[1]
    if chunk == metrics.CHUNK:  # one block: the same sums
        assert (got.mean_abs_255, got.edge_ratio) == want[::2]
    else:  # sums of blocks: float rounding apart
        assert (got.mean_abs_255, got.edge_ratio) == pytest.approx(want[::2], rel=1e-12)
    whole = np.abs(serve.astype(np.float64) - fit.apply(train)).sum(axis=-1)
    assert np.array_equal(abs_residual(serve, train, fit, chunk=chunk), whole)


def test_apply_rows_is_apply_sliced():
    train, _ = _pair((24, 30, 3))
    for fit in FITS:
        whole = fit.apply(train)
        for start, stop in ((0, 5), (2, 3), (5, 24), (19, 24)):
            assert np.array_equal(fit.apply_rows(train, start, stop), whole[start:stop])


def test_a_big_image_reads_an_even_grid_for_its_edge_ratio(monkeypatch):
    train, serve = _pair((64, 48, 3), seed=2)
    fit = ValueFit("scale", factor=1.3)
    full = residual_stats(serve, train, fit)
    monkeypatch.setattr(residual_module, "EDGE_PIXELS", 64 * 48 // 9)  # every 3rd row and column
    sampled = residual_stats(serve, train, fit, chunk=100)
    assert sampled is not None and full is not None
    assert (sampled.mean_abs_255, sampled.max_abs_255) == pytest.approx((full.mean_abs_255, full.max_abs_255))
    assert sampled.edge_ratio == pytest.approx(full.edge_ratio, rel=0.2)


def test_value_fit_samples_pixels_by_index_as_the_flattened_copy_did():
    rng = np.random.default_rng(4)
    chw = rng.random((3, 300, 200), dtype=np.float32)
    train = np.moveaxis(chw, 0, -1)  # a view that is not contiguous
    serve = train[..., ::-1] * 2.0
    fit = _fit_whole(train, serve)
    old = _fit_whole(np.ascontiguousarray(train), np.ascontiguousarray(serve))
    assert train.shape[0] * train.shape[1] > SAMPLE_PIXELS and fit == old
    assert fit.model == "scale" and fit.permutation == (2, 1, 0) and fit.factor == pytest.approx(2.0)


def test_tolerance_and_equality_in_blocks(monkeypatch):
    train, serve = _pair((40, 30, 3))
    monkeypatch.setattr(metrics, "CHUNK", 64)
    for atol in (0.0, 0.5, 10.0):
        a, b = train.astype(np.float64), serve.astype(np.float64)
        assert metrics.within(train, serve, atol, 0.01) == bool(np.all(np.abs(b - a) <= atol + 0.01 * np.abs(a)))
    assert metrics.equal_values(train, train.copy()) and not metrics.equal_values(train, serve)
    nan = train.copy()
    nan[5, 5, 1] = np.nan
    assert metrics.equal_values(nan, nan.copy())
    assert metrics.max_abs_diff(train, serve) == float(np.max(np.abs(train.astype(np.float64) - serve)))
    assert np.isnan(metrics.max_abs_diff(nan, serve))


PIPELINES = """import numpy as np

SIDE = 2048


def _big(path: str) -> np.ndarray:
    return np.tile(np.linspace(0, 1, 48, dtype=np.float32).reshape(4, 4, 3), (SIDE // 4, SIDE // 4, 1))


def train(path: str) -> np.ndarray:
    return _big(path)


def serve(path: str) -> np.ndarray:
    out = _big(path)
    out *= 1.01
    return out
"""


def test_one_large_pair_costs_about_three_tensors(tmp_path):
    """A 48 MiB float32 pair with a scale skew, one image (so it is also run twice, and sampled for
    attribution): the audit's numpy allocations peak at about three tensors (train, serve, and the
    repeat run's or the repair's), where each full-size float64 copy used to add two."""
    (tmp_path / "p.py").write_text(PIPELINES)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"not read")
    tensor = 2048 * 2048 * 3 * 4
    tracemalloc.start()
    try:
        report = skewcheck.compare(
            train=f"{tmp_path}/p.py:train", serve=f"{tmp_path}/p.py:serve", images=tmp_path / "images"
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [f.kind for f in report.findings] == ["scale"]
    assert peak < 4 * tensor, f"peak {peak / tensor:.1f}x the tensor"


def test_fit_values_on_a_large_pair_is_the_fit_of_its_sample():
    train, serve = _pair((1100, 1000, 3), seed=5)  # 3.3 M elements: more than one block
    fit = fit_values(train, serve)
    assert fit.model in ("affine", "scale", "channel-affine")
    assert fit.slope == pytest.approx((1.3,), rel=0.01) or fit.factor == pytest.approx(1.3, rel=0.05)
