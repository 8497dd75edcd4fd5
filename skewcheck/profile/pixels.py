"""Pixel statistics of one image, measured on a downscaled decode whose long side is exactly
``THUMB`` px (the image's own size when it is smaller; skewcheck/profile/read_image.py says how it
is made).

All values are on the 0-255 scale of 8-bit pixels, after conversion to RGB:

* ``mean`` / ``std``: per channel (R, G, B);
* ``brightness``: mean luma (BT.601: 0.299 R + 0.587 G + 0.114 B), ``contrast``: its standard
  deviation (RMS contrast);
* ``saturated``: the share of pixels with at least one channel clipped at 0 or 255;
* ``blur``: the variance of the 4-neighbour Laplacian of the luma; low means blurry. It is
  measured at the working size, so it compares images at one scale (their sharpness at ``THUMB``
  px on the long side), not full-resolution sharpness.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

THUMB = 128  # the long side of the image the statistics are measured on (a smaller image: its own)


def _mean_var(total: int, squares: int, n: int) -> tuple[float, float]:
    """Mean and (population) variance from the exact integer sum and sum of squares of n values
    (Python integers: the variance's numerator is exact, one division rounds it)."""
    return total / n, (n * squares - total * total) / (n * n)


def pixel_stats(rgb: np.ndarray) -> dict[str, Any]:
    """Statistics of an ``(H, W, 3)`` uint8 array, in exact integer arithmetic: sums of the 8-bit
    values, of 1000 × the luma (``299 R + 587 G + 114 B``) and of its Laplacian, and of their
    squares, each rounded once at the end (exact in int64 up to ~8 million pixels; the working
    image has at most ``THUMB``² = 16,384). The figures of NumPy's float64 mean and std (where a
    value sits at a rounding boundary, the float64 sums' rounding error could tip its last digit;
    these sums have none), several times faster."""
    height, width = rgb.shape[:2]
    n = height * width
    planes = np.ascontiguousarray(rgb.transpose(2, 0, 1)).reshape(3, -1)  # contiguous planes
    wide = planes.astype(np.int32)
    totals = wide.sum(axis=1, dtype=np.int64).tolist()
    squares = (wide * wide).sum(axis=1, dtype=np.int64).tolist()
    channels = [_mean_var(t, q, n) for t, q in zip(totals, squares, strict=True)]
    clipped = int(np.count_nonzero(((planes == 0) | (planes == 255)).any(axis=0)))
    luma = 299 * wide[0] + 587 * wide[1] + 114 * wide[2]  # 1000 × BT.601 luma
    luma64 = luma.astype(np.int64)
    brightness, luma_var = _mean_var(int(luma64.sum()), int(luma64 @ luma64), n)
    blur = 0.0
    if height >= 3 and width >= 3:
        y = luma.reshape(height, width)
        lap = y[:-2, 1:-1] + y[2:, 1:-1]
        lap += y[1:-1, :-2]
        lap += y[1:-1, 2:]
        lap -= 4 * y[1:-1, 1:-1]
        lap64 = lap.astype(np.int64).ravel()
        blur = _mean_var(int(lap64.sum()), int(lap64 @ lap64), lap64.size)[1] / 1e6
    return {
        "mean": [round(m, 3) for m, _ in channels],
        "std": [round(math.sqrt(v), 3) for _, v in channels],
        "brightness": round(brightness / 1000, 3),
        "contrast": round(math.sqrt(luma_var) / 1000, 3),
        "saturated": round(clipped / n, 6),
        "blur": round(blur, 3),
    }
