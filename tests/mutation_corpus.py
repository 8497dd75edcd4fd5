"""A seeded mutation corpus of probe files, and the pipelines it is fed through (issue 10).

Used by tests/e2e/test_mutation_corpus.py (a few hundred files) and benchmarks/fuzz_campaign.py
(thousands, as whole ``skewcheck compare`` processes). Everything is a pure function of the seed:
the same seed writes the same bytes.

The pipelines are written as users write them, with real library calls, and all resize to
SIDE x SIDE RGB float32 in [0, 1] so that the train and serve tensors of a file that decodes on
both sides are compared. Referenced as ``tests/mutation_corpus.py:pil`` (or by absolute path).
"""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

import numpy as np

SIDE = 32

# valid probe files of every container skewcheck's probes write: JPEG (baseline, progressive,
# 4:2:0, CMYK, EXIF, ICC), PNG (8/16-bit, palette, alpha, ICC), WebP, BMP, TIFF, GIF, odd sizes
SEED_KINDS = [
    "clean-jpeg-q95",
    "clean-jpeg-progressive",
    "clean-jpeg-420",
    "clean-png",
    "png-16bit",
    "webp",
    "bmp",
    "tiff",
    "palette",
    "gif-multiframe",
    "rgba",
    "grayscale",
    "cmyk-jpeg",
    "exif-orientation-6",
    "icc-adobe-rgb",
    "truncated-jpeg",
    "size-extreme-aspect",
]

OPS = ("bitflip", "truncate", "insert", "delete", "header", "splice")
WEIGHTS = (0.35, 0.15, 0.15, 0.10, 0.15, 0.10)  # most files stay decodable, with damage inside


def seed_files(folder: Path) -> list[Path]:
    """Write the probe files for SEED_KINDS into ``folder``; return them (manifest excluded)."""
    from skewcheck.probes import MANIFEST, write_probes

    write_probes(folder, kinds=SEED_KINDS)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def mutate(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    """One or two mutations of ``data``; returns the new bytes and the operations applied."""
    buf = bytearray(data)
    names = []
    for _ in range(int(rng.integers(1, 3))):
        op = OPS[int(rng.choice(len(OPS), p=WEIGHTS))]
        names.append(op)
        n = len(buf)
        if op == "bitflip":  # a few single-bit flips anywhere
            for _ in range(int(rng.integers(1, 9))):
                if n:
                    i = int(rng.integers(n))
                    buf[i] ^= 1 << int(rng.integers(8))
        elif op == "truncate":  # mostly in the second half (image data), sometimes down to nothing
            buf = buf[: int(rng.integers(0, n + 1) if rng.random() < 0.2 else rng.integers(n // 2, n + 1))]
        elif op == "insert":  # a chunk of random bytes or of the file itself
            i = int(rng.integers(n + 1))
            size = int(rng.integers(1, 257))
            if n and rng.random() < 0.5:
                j = int(rng.integers(n))
                chunk = bytes(buf[j : j + size])
            else:
                chunk = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
            buf[i:i] = chunk
        elif op == "delete":
            if n:
                i = int(rng.integers(n))
                del buf[i : i + int(rng.integers(1, 257))]
        elif op == "header":  # overwrite bytes among the first 64: magic, sizes, chunk lengths
            for _ in range(int(rng.integers(1, 5))):
                if n:
                    i = int(rng.integers(min(n, 64)))
                    buf[i] = int(rng.choice([0x00, 0xFF, 0x7F, 0x80, int(rng.integers(256))]))
        elif op == "splice":  # a repeated or swapped region (markers, chunks out of order)
            if n > 2:
                i, j = sorted(int(x) for x in rng.integers(0, n, 2))
                buf = buf[:i] + buf[j:] + buf[i:j] if rng.random() < 0.5 else buf[:j] + buf[i:j] + buf[j:]
    return bytes(buf), "+".join(names)


def write_corpus(out: Path, count: int, seed: int = 0) -> list[str]:
    """Write ``count`` mutated probe files into ``out``; return their paths relative to ``out``.

    File i mutates a seed file picked by a Generator seeded from (seed, i), keeps its
    extension (so extension-driven readers are fooled too), and is named after both.
    """
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="skewcheck-seeds-"))
    try:
        seeds = seed_files(tmp)
        names = []
        for i in range(count):
            rng = np.random.default_rng([seed, i])
            src = seeds[int(rng.integers(len(seeds)))]
            data, ops = mutate(src.read_bytes(), rng)
            name = f"{i // 100:03d}/{i:05d}.{src.name[: -len(src.suffix)]}.{ops}{src.suffix}"
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
            names.append(name)
        return names
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- pipelines --------------------------------------------------------------------------------


def pil(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB").resize((SIDE, SIDE), Image.BILINEAR)
        return np.asarray(im, dtype=np.float32) / 255.0


def opencv(data: bytes) -> np.ndarray:
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("cv2.imdecode could not decode the image")
    img = cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), (SIDE, SIDE), interpolation=cv2.INTER_LINEAR)
    return img.astype(np.float32) / 255.0


def tf(data: bytes):  # noqa: ANN201 (returns a tf.Tensor on purpose)
    import tensorflow as tf

    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image = tf.image.resize(tf.cast(image, tf.float32) / 255.0, (SIDE, SIDE))
    return image
