"""Pixel statistics of the profile's pixel sample: measured at one working size, in exact integer
arithmetic (skewcheck/profile/pixels.py, read_image._decode)."""

from __future__ import annotations

import numpy as np


def _float64_stats(rgb: np.ndarray) -> dict:
    """The statistics as NumPy's float64 mean, std and var give them (profile v1's arithmetic)."""
    h, w = rgb.shape[:2]
    x = rgb.reshape(-1, 3).T.astype(np.float64)
    luma = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).reshape(h, w)
    lap = luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:] - 4 * luma[1:-1, 1:-1]
    return {
        "mean": list(x.mean(axis=1)),
        "std": list(x.std(axis=1)),
        "brightness": luma.mean(),
        "contrast": luma.std(),
        "saturated": ((x == 0) | (x == 255)).any(axis=0).mean(),
        "blur": lap.var() if h >= 3 and w >= 3 else 0.0,
    }


def test_integer_statistics_are_numpys_float64_figures():
    """On random, clipped-normal and solid arrays of every shape up to the working size: each
    figure within its last shown digit of the float64 computation (the integer sums are exact; a
    value at a rounding boundary may round the other way)."""
    from skewcheck.profile.pixels import THUMB, pixel_stats

    rng = np.random.default_rng(30)
    for i in range(300):
        h, w = (int(v) for v in rng.integers(1, THUMB + 1, 2))
        kind = i % 3
        if kind == 0:
            rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        elif kind == 1:
            rgb = np.clip(rng.normal(128, 70, (h, w, 3)), 0, 255).astype(np.uint8)
        else:
            rgb = np.full((h, w, 3), rng.integers(0, 256, 3), dtype=np.uint8)
        got, want = pixel_stats(rgb), _float64_stats(rgb)
        for key, value in want.items():
            digits = 6 if key == "saturated" else 3
            assert np.allclose(got[key], value, rtol=0, atol=1.01 * 10**-digits / 2), (key, h, w)
    solid = pixel_stats(np.full((4, 5, 3), (10, 20, 30), dtype=np.uint8))
    assert (solid["brightness"], solid["std"], solid["blur"]) == (18.15, [0.0, 0.0, 0.0], 0.0)


def test_pixel_statistics_are_measured_at_one_working_size():
    """The same picture stored at different sizes: its working image has a long side of exactly
    THUMB px (a smaller file: its own size), whether a JPEG's DCT scaling or the box filter made it,
    so blur does not jump at each power of two of the file's size (v1 measured 257 px at 65 px and
    256 px at 128 px: 3x apart)."""
    import io

    import skimage.data
    from PIL import Image

    from skewcheck.profile.pixels import THUMB
    from skewcheck.profile.read_image import _decode, read_bytes

    source = Image.fromarray(skimage.data.astronaut())
    blur = {}
    for side, fmt in [(256, "JPEG"), (257, "JPEG"), (300, "JPEG"), (500, "JPEG"), (513, "JPEG"), (300, "PNG")]:
        out = io.BytesIO()
        source.resize((side, side * 3 // 4), Image.Resampling.LANCZOS).save(
            out, fmt, **({"quality": 95} if fmt == "JPEG" else {})
        )
        with Image.open(io.BytesIO(out.getvalue())) as im:
            status, _, rgb = _decode(im)
        assert status == "ok" and rgb is not None
        # the long side exactly; the short one from the DCT-scaled size, so within a pixel of the ratio
        assert rgb.shape[1:] == (THUMB, 3) and abs(rgb.shape[0] - side * 3 // 4 * THUMB / side) <= 1, (side, fmt)
        blur[side, fmt] = read_bytes(out.getvalue(), "x")["pixels"]["blur"]
    assert max(blur.values()) < 1.25 * min(blur.values()), blur
    small = io.BytesIO()
    source.resize((100, 75)).save(small, "JPEG")
    with Image.open(io.BytesIO(small.getvalue())) as im:
        assert _decode(im)[2].shape == (75, 100, 3)  # no larger than THUMB: measured as it is
