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

from typing import Any

import numpy as np

THUMB = 128  # the long side of the image the statistics are measured on (a smaller image: its own)


def pixel_stats(rgb: np.ndarray) -> dict[str, Any]:
    """Statistics of an ``(H, W, 3)`` uint8 array (computed on its three planes, each contiguous:
    NumPy reduces a strided channel axis several times slower)."""
    height, width = rgb.shape[:2]
    planes = np.ascontiguousarray(rgb.transpose(2, 0, 1)).reshape(3, -1)
    x = planes.astype(np.float64)
    luma = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).reshape(height, width)
    clipped = ((planes == 0) | (planes == 255)).any(axis=0)
    if height >= 3 and width >= 3:
        lap = luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:] - 4 * luma[1:-1, 1:-1]
        blur = float(lap.var())
    else:
        blur = 0.0
    return {
        "mean": [round(float(v), 3) for v in x.mean(axis=1)],
        "std": [round(float(v), 3) for v in x.std(axis=1)],
        "brightness": round(float(luma.mean()), 3),
        "contrast": round(float(luma.std()), 3),
        "saturated": round(float(clipped.mean()), 6),
        "blur": round(blur, 3),
    }
