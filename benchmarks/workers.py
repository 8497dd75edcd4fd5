"""Throughput of ``--workers``: the same tensor-only audit in-process and in a pool of worker processes.

Generates N 512×512 JPEGs and audits them twice per scenario, with ``workers=0`` and
``workers=2`` (in one process, after a warm-up), printing images/s and the speed-up:

* ``no skew``: train and serve decode with PIL and resize to 224×224 with two equivalent
  implementations. The pipelines are most of the work: this is what workers speed up.
* ``skew``: serve resizes with BICUBIC instead of BILINEAR, so every image is diagnosed. Diagnosis
  runs in the parent process, so it bounds what workers can gain.

Workers rebuild the pipelines from their references, so the pipelines live in this file and are
passed as ``benchmarks/workers.py:NAME``; the ``__main__`` guard is what lets spawned workers
import this file.

    python benchmarks/workers.py [N]   # default 300
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import skewcheck  # noqa: E402

HERE = Path(__file__).resolve()
SIZE = (224, 224)


def train(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB").resize(SIZE, Image.BILINEAR), dtype=np.float32) / 255


def serve_same(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        small = np.array(im.convert("RGB").resize(SIZE, Image.BILINEAR))
    return (small / np.float32(255)).astype(np.float32)


def serve_bicubic(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB").resize(SIZE, Image.BICUBIC), dtype=np.float32) / 255


def make_images(root: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:512, 0:512] / 512
    smooth = np.stack([np.sin(6 * x + c) * np.cos(4 * y - c) for c in range(3)], -1) * 90 + 128
    for i in range(count):
        noise = rng.normal(0, 12, (512, 512, 3))
        image = np.clip(np.roll(smooth, 3 * i, axis=1) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(image).save(root / f"{i:05d}.jpg", quality=90)


def rate(root: Path, serve: str, workers: int, count: int) -> tuple[float, list[str]]:
    start = time.perf_counter()
    report = skewcheck.compare(train=f"{HERE}:train", serve=f"{HERE}:{serve}", images=root, workers=workers)
    seconds = time.perf_counter() - start
    return count / seconds, [f.kind for f in report.findings if f.severity.label != "info"]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(f"{count} generated 512x512 JPEGs -> 224x224 float32, {os.cpu_count()} CPU cores")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_images(root, count)
        rate(root, "serve_same", 0, count)  # warm-up: imports, caches
        for label, serve in (("no skew", "serve_same"), ("skew", "serve_bicubic")):
            in_process, findings = rate(root, serve, 0, count)
            pooled, pooled_findings = rate(root, serve, 2, count)
            assert findings == pooled_findings, (findings, pooled_findings)
            print(
                f"{label:>8}: workers=0 {in_process:6.1f} images/s | workers=2 {pooled:6.1f} images/s "
                f"| speed-up {pooled / in_process:.2f}x | findings {findings or 'none'}"
            )


if __name__ == "__main__":
    main()
