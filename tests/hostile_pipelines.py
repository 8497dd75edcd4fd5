"""Pipelines that misbehave the way real user code does, for the input-hardening tests.

Referenced as 'tests/hostile_pipelines.py:NAME' (from the repo root) or called directly.
"""

from __future__ import annotations

import io
import os
import sys

import numpy as np
from PIL import Image


def pil(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def exits_zero(data: bytes) -> np.ndarray:
    sys.exit(0)


def exits_on_odd(path: str) -> np.ndarray:
    if path.endswith(("1.png", "3.png")):
        sys.exit(0)
    return pil(open(path, "rb").read())


def noisy(data: bytes) -> np.ndarray:
    """10,000 lines on file descriptor 2 (what a chatty C library does), then a tensor."""
    os.write(2, b"".join(b"warning: libfoo said something about line %d\n" % i for i in range(10_000)))
    return pil(data)


def says_decode_then_key_error(data: bytes) -> np.ndarray:
    os.write(2, b"decode: using decoder_config from defaults\n")
    config: dict[str, str] = {}
    return config["decoder_config"]  # type: ignore[return-value]


def key_error(data: bytes) -> np.ndarray:
    raise KeyError("decoder_config")


def unicode_error(data: bytes) -> np.ndarray:
    return np.asarray([ord(c) for c in data.decode("utf-8")])  # a plain bug: bytes are not text


def value_error_truncated(data: bytes) -> np.ndarray:
    raise ValueError("label list truncated: expected 10 classes, got 3")


def pil_syntax_error(data: bytes) -> np.ndarray:
    """Pillow's PNG reader refusing a chunk checksum: SyntaxError('broken PNG file ...') from PIL."""
    from PIL import PngImagePlugin

    stream = PngImagePlugin.ChunkStream(io.BytesIO(b"\x00\x00\x00\x00"))
    stream.crc(b"IHDR", b"not the data the checksum was computed on")
    return pil(data)


def opencv_checked(data: bytes) -> np.ndarray:
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise RuntimeError("no image")  # nothing in the message says "decode"
    return img.astype(np.float32) / 255.0


def opencv_unchecked(data: bytes) -> np.ndarray:
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def opencv_empty_buffer(data: bytes) -> np.ndarray:
    import cv2

    return cv2.imdecode(np.frombuffer(b"", np.uint8), cv2.IMREAD_COLOR)


def opencv_bad_resize(data: bytes) -> np.ndarray:
    """A cv2.error that is the pipeline's bug, not the decoder's."""
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return cv2.resize(img, (0, 0))


def huge(data: bytes) -> np.ndarray:
    return np.zeros((1024, 1024, 3), np.float32)  # 12 MiB


def chdir_away(data: bytes) -> np.ndarray:
    os.chdir("/")
    return pil(data)
