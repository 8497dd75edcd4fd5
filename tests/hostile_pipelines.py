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


class _Plain(np.ndarray):
    """An ndarray subclass of this file: a worker's parent cannot import its per-process module name."""


class _Unpicklable(np.ndarray):
    def __reduce_ex__(self, protocol: object) -> object:
        raise RuntimeError("this array refuses to be pickled")


def returns_subclass(data: bytes) -> np.ndarray:
    return pil(data).view(_Plain)


def returns_unpicklable_subclass(data: bytes) -> np.ndarray:
    return pil(data).view(_Unpicklable)


def returns_unpicklable_dtype(data: bytes) -> np.ndarray:
    """float32 values whose dtype carries a lock in its metadata: no pickle of it can be made."""
    import threading

    return pil(data).astype(np.dtype(np.float32, metadata={"lock": threading.Lock()}))


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ raised too")


class _Unrepresentable:
    def __repr__(self) -> str:
        raise RuntimeError("__repr__ raised too")

    __str__ = __repr__


def raises_unprintable(data: bytes) -> np.ndarray:
    raise _Unprintable()


def exits_with_unrepresentable_code(data: bytes) -> np.ndarray:
    sys.exit(_Unrepresentable())


class _Tag:
    """Pickles by reference to this file's per-process module name, which only the worker has."""


def returns_dtype_tagged_with_own_class(data: bytes) -> np.ndarray:
    return pil(data).astype(np.dtype(np.float32, metadata={"tag": _Tag()}))


class _ExitsWhenPickled:
    def __reduce__(self) -> object:
        os._exit(5)


def exits_when_its_result_is_pickled_on_0(path: str) -> np.ndarray:
    """On 0.png, a result whose pickling ends the process: a worker dies between pipeline runs."""
    tensor = pil(open(path, "rb").read())
    if os.path.basename(path).startswith("0"):
        return tensor.astype(np.dtype(np.float32, metadata={"exit": _ExitsWhenPickled()}))
    return tensor


def prints(data: bytes) -> np.ndarray:
    """20,000 lines of print() and 20,000 written to descriptor 1 per image (a debug leftover)."""
    for i in range(20_000):
        print(f"debug: row {i} of the decoded image")
    os.write(1, b"".join(b"libfoo: stdout line %d\n" % i for i in range(20_000)))
    return pil(data)


def starts_a_process(data: bytes) -> np.ndarray:
    """Starts a process that outlives the call (a helper daemon, a leaked Popen): it inherits the
    pipeline's stdout and stderr. Its pid is appended to $SKEWCHECK_TEST_PIDS."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    with open(os.environ["SKEWCHECK_TEST_PIDS"], "a") as out:
        out.write(f"{child.pid}\n")
    return pil(data)
