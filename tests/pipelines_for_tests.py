"""Pipelines as users write them, referenced by tests as 'tests/pipelines_for_tests.py:NAME'."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image


def pil_unit(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def pil_unit_again(data: bytes) -> np.ndarray:
    """Another, exactly equivalent implementation."""
    with Image.open(io.BytesIO(data)) as im:
        arr = np.array(im.convert("RGB"))
    return (arr / np.float32(255.0)).astype(np.float32)


def pil_raw(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def opencv_bgr_unit(data: bytes) -> np.ndarray:
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("cv2.imdecode could not decode the image")
    return img.astype(np.float32) / 255.0


def pil_unit_float64(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB")) / 255.0


def pil_unit_chw(data: bytes) -> np.ndarray:
    return np.transpose(pil_unit(data), (2, 0, 1))


def pil_unit_batched(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return (np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0)[None]


def pil_tf_mode(data: bytes) -> np.ndarray:
    return (pil_raw(data).astype(np.float32) / 127.5 - 1.0).astype(np.float32)


def raises_on_b(path: str) -> np.ndarray:
    if "/b/" in path.replace("\\", "/"):
        raise RuntimeError("serving crashed on this one")
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def tf_unit(data: bytes):  # noqa: ANN201 (returns a tf.Tensor on purpose)
    import tensorflow as tf

    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    return tf.cast(image, tf.float32) / 255.0


def tf_lenient_unit(data: bytes):  # noqa: ANN201
    """Accepts truncated JPEGs (libjpeg prints 'Premature end of JPEG file' on fd 2)."""
    import tensorflow as tf

    image = tf.io.decode_jpeg(data, channels=3, try_recover_truncated=True, acceptable_fraction=0.1)
    return tf.cast(image, tf.float32) / 255.0


def pil_raw_html_error(path: str) -> np.ndarray:
    """Raw uint8 (a missing /255), and an exception whose message is markup on files named 'boom*'."""
    if Path(path).name.startswith("boom"):
        raise RuntimeError("<script>alert('boom')</script> & more")
    return pil_raw(Path(path).read_bytes())


def pil_unit_small_offset(data: bytes) -> np.ndarray:
    """pil_unit + 0.002 everywhere: a difference a user may choose to tolerate with --atol."""
    return (pil_unit(data) + np.float32(0.002)).astype(np.float32)


def nan_image(data: bytes) -> np.ndarray:
    x = pil_unit(data)
    x[:4] = np.nan  # e.g. (x - mean) / std with a zero std
    return x


def object_array(data: bytes) -> np.ndarray:
    return np.array([object(), 1], dtype=object)


def segfault_on_b(path: str) -> np.ndarray:
    """pil_unit, but reading address 0 (a segfault, as a buggy C extension would) on files under b/."""
    if "/b/" in path.replace("\\", "/"):
        import ctypes

        ctypes.string_at(0)
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def exits_on_img4(path: str) -> np.ndarray:
    """pil_unit, but the process exits with status 3 on img4 (os._exit skips every handler)."""
    if Path(path).name == "img4.png":
        import os

        os._exit(3)
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def hangs_on_img4(path: str) -> np.ndarray:
    """pil_unit, but hangs on img4 (an endless wait, as a deadlocked library would)."""
    if Path(path).name == "img4.png":
        import time

        time.sleep(3600)
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def pil_unit_noisy(data: bytes) -> np.ndarray:
    """pil_unit plus unseeded noise: randomness left on, so two runs on the same bytes differ."""
    x = pil_unit(data)
    return (x + np.random.default_rng().uniform(0, 0.01, x.shape)).astype(np.float32)


_SEEN: set[str] = set()


def segfault_on_second_run(path: str) -> np.ndarray:
    """pil_unit the first time this process sees a file, a segfault the second time (the repeat run)."""
    if path in _SEEN:
        import ctypes

        ctypes.string_at(0)
    _SEEN.add(path)
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def lenient_global(data: bytes) -> np.ndarray:
    """A serving "fix" for upload errors that flips Pillow's process-wide switch and leaves it on."""
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    return pil_unit(data)


def all_nan(data: bytes) -> np.ndarray:
    """pil_unit's shape, every value NaN: every tensor metric of the pair is NaN."""
    return np.full(pil_unit(data).shape, np.nan, dtype=np.float32)


def slow_unit(path: str) -> np.ndarray:
    """pil_unit, one second per image: a run long enough to be interrupted in the middle."""
    import time

    time.sleep(1.0)
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def hangs(path: str) -> np.ndarray:
    """Never returns (a deadlocked library): the worker running it is busy until it is killed."""
    import time

    time.sleep(3600)
    raise AssertionError("unreachable")


def _mark_started(path: str) -> None:
    """Touch ``started-PID`` in the images folder (images sit one folder below it, as in conftest's
    image_dir): a test waits for one such file per worker instead of a guessed time."""
    import os

    (Path(path).resolve().parents[1] / f"started-{os.getpid()}").touch()


def hangs_marked(path: str) -> np.ndarray:
    """hangs, after marking which process started it (``_mark_started``)."""
    _mark_started(path)
    return hangs(path)


def slow_unit_marked(path: str) -> np.ndarray:
    """slow_unit, after marking which process started it (``_mark_started``)."""
    _mark_started(path)
    return slow_unit(path)


def hangs_once_started(path: str) -> np.ndarray:
    """hangs, after touching ``started`` in the images folder (images sit one folder below it, as in
    conftest's image_dir): a test waits for that file (the pipelines really run, wherever the engine
    put them) rather than for a guessed time."""
    (Path(path).resolve().parents[1] / "started").touch()
    return hangs(path)


def always_raises(path: str) -> np.ndarray:
    raise RuntimeError("the serving container lost its model config")


def big_segfault_on_img4(path: str) -> np.ndarray:
    """A 6 MB tensor per image (more than a pipe holds), and a segfault on img4, after touching
    ``img4-reached`` in the images folder (one folder above img4's): a test waits for that file."""
    if Path(path).name == "img4.png":
        import ctypes

        (Path(path).resolve().parents[1] / "img4-reached").touch()

        ctypes.string_at(0)
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize((700, 700)), dtype=np.float32) / 255.0
