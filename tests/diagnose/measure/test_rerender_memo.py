"""The re-render memo (skewcheck/diagnose/measure/rerender.py) gives what rendering again gives."""

from __future__ import annotations

import gc

import numpy as np
from PIL import Image

from skewcheck.diagnose.measure import rerender
from skewcheck.diagnose.measure.rerender import RESIZERS, center_fraction


def _decoded(seed: int = 0) -> np.ndarray:
    pixels = np.random.default_rng(seed).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(pixels))  # read-only, over Pillow's bytes, as Reference holds


def test_memoised_renders_equal_fresh_ones_and_are_private_copies() -> None:
    rgb = _decoded()
    fresh = RESIZERS["pil.bilinear"](rgb.copy(), (32, 40))  # a writeable copy is never memoised
    first = RESIZERS["pil.bilinear"](rgb, (32, 40))
    first[:] = -1  # a caller writing into its render does not touch the memo
    again = RESIZERS["pil.bilinear"](rgb, (32, 40))
    np.testing.assert_array_equal(again, fresh)
    window = RESIZERS["pil.bilinear"](center_fraction(rgb, 0.75), (32, 40))  # a window is its own key
    np.testing.assert_array_equal(window, RESIZERS["pil.bilinear"](center_fraction(rgb, 0.75).copy(), (32, 40)))
    assert not np.array_equal(window, again)
    other = RESIZERS["opencv.INTER_LINEAR"](rgb, (32, 40))  # the method is part of the key
    np.testing.assert_array_equal(other, RESIZERS["opencv.INTER_LINEAR"](rgb.copy(), (32, 40)))


def test_the_memo_goes_with_its_image() -> None:
    rgb = _decoded(1)
    RESIZERS["pil.bilinear"](rgb, (16, 16))
    assert any(ref() is rgb for ref, _ in rerender._MEMOS.values())
    del rgb
    gc.collect()
    assert all(ref() is not None for ref, _ in rerender._MEMOS.values())


def test_writeable_arrays_are_not_memoised() -> None:
    rgb = _decoded(2).copy()
    before = len(rerender._MEMOS)
    out = RESIZERS["pil.bilinear"](rgb, (16, 16))
    rgb[:] = 0
    assert len(rerender._MEMOS) == before
    assert not np.array_equal(RESIZERS["pil.bilinear"](rgb, (16, 16)), out)
