"""Memory and throughput of the streaming audit as the number of images grows.

Runs the same tensor-only audit (PIL decode, 128×128 float32 on both sides, serve BGR so every
image yields a finding) on N and 10·N generated 256×256 JPEGs, in one process, and prints the
peak memory that Python and NumPy allocated (tracemalloc) for each, their ratio, and images/s.
Flat memory means the ratio stays near 1 while the image count grows tenfold; what does grow is
one small JSON record per image.

    python benchmarks/audit_memory.py [N]
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import skewcheck  # noqa: E402


def train(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB").resize((128, 128), Image.BILINEAR), dtype=np.float32) / 255


def serve(data: bytes) -> np.ndarray:
    return train(data)[..., ::-1]


def make_images(root: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    base = np.clip(rng.normal(128, 40, (256, 256, 3)), 0, 255).astype(np.uint8)
    for i in range(count):
        shifted = np.roll(base, i, axis=1)
        Image.fromarray(shifted).save(root / f"{i:05d}.jpg", quality=90)


def measure(count: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_images(root, count)
        tracemalloc.start()
        start = time.perf_counter()
        report = skewcheck.compare(train=train, serve=serve, images=root)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert report.findings and report.findings[0].kind == "channel-order", report.findings
        return peak / 2**20, count / seconds, report.findings[0].images


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    measure(4)  # warm-up: imports, caches
    small_mb, small_rate, small_found = measure(n)
    big_mb, big_rate, big_found = measure(10 * n)
    print(f"{n:>6} images: peak {small_mb:7.1f} MiB, {small_rate:6.1f} images/s, finding on {small_found}")
    print(f"{10 * n:>6} images: peak {big_mb:7.1f} MiB, {big_rate:6.1f} images/s, finding on {big_found}")
    print(f"peak memory ratio for 10x the images: {big_mb / small_mb:.2f}")


if __name__ == "__main__":
    main()
