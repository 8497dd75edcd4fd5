"""Lazy heavy imports and capture of what C libraries print.

libjpeg, libpng and TensorFlow's C++ runtime write warnings straight to file descriptor 2, below
Python's ``sys.stderr``. Those lines are evidence ("Premature end of JPEG file" means the decoder
accepted a truncated file), so :func:`capture_native_stderr` redirects the descriptor into a
temporary file for the duration of a call and hands the text back instead of losing it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from types import ModuleType

_VERBOSE = False


def set_verbose(verbose: bool) -> None:
    global _VERBOSE
    _VERBOSE = verbose


def is_verbose() -> bool:
    return _VERBOSE


MAX_CAPTURE_BYTES = 1024 * 1024  # read back at most this much of what was printed; count the rest


class CapturedText:
    """Filled with the captured text when the ``with`` block exits.

    Only the first :data:`MAX_CAPTURE_BYTES` are kept as text; ``omitted`` counts the lines
    after them (a pipeline that prints without end must not fill memory or the report).
    """

    def __init__(self) -> None:
        self.text = ""
        self.omitted = 0

    @property
    def lines(self) -> list[str]:
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        if self.omitted:
            lines.append(f"… {self.omitted} more lines not read back")
        return lines


@contextlib.contextmanager
def capture_native_stderr(stdout: bool = False) -> Iterator[CapturedText]:
    """Descriptor 2 into a temporary file for the block; with ``stdout``, descriptor 1 and Python's
    ``sys.stdout`` too (a pipeline's ``print()`` and its libraries' output: the audit's stdout is
    its report, and 221 MB of a pipeline's prints went there). A process started in the block
    inherits the file, not the terminal or the pipe of ``out=$(skewcheck ...)``."""
    captured = CapturedText()
    fds = (2, 1) if stdout else (2,)  # C libraries write to descriptor 2 whatever sys.stderr has become
    saved: list[int] = []
    try:
        for fd in fds:
            saved.append(os.dup(fd))
    except OSError:
        for fd in saved:
            os.close(fd)
        yield captured
        return
    with tempfile.TemporaryFile(mode="w+b") as sink:
        _flush_std(stdout)
        for fd in fds:
            os.dup2(sink.fileno(), fd)
        python_stdout = sys.stdout
        if stdout:  # print() where sys.stdout is not descriptor 1 (a test runner's buffer, say)
            sys.stdout = open(os.dup(sink.fileno()), "w", encoding="utf-8", errors="replace", closefd=True)  # noqa: SIM115
        try:
            yield captured
        finally:
            if stdout:
                with contextlib.suppress(Exception):
                    sys.stdout.close()  # flushed into the sink
                sys.stdout = python_stdout
            _flush_std(stdout)  # what went to the stdout object held since before the block: the sink too
            for fd, copy in zip(fds, saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            captured.text = sink.read(MAX_CAPTURE_BYTES).decode("utf-8", "replace")
            while chunk := sink.read(1 << 20):
                captured.omitted += chunk.count(b"\n")
            if _VERBOSE and captured.text:
                sys.stderr.write(captured.text)


def _flush_std(stdout: bool) -> None:
    streams = (sys.stderr, sys.stdout) if stdout else (sys.stderr,)
    for stream in streams:
        with contextlib.suppress(Exception):
            stream.flush()


def quiet_tensorflow_env() -> None:
    """Set TensorFlow's log switches before anything (the user's pipeline too) imports it."""
    if not _VERBOSE:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def quiet_imports() -> Iterator[None]:
    """Around code that may import TensorFlow (a user's pipeline or model module): its import-time
    lines ("All log messages before absl::InitializeLog()", oneDNN, CPU features) are written on
    descriptor 2 whatever TF_CPP_MIN_LOG_LEVEL says, so they are captured and dropped (printed with
    ``--verbose``); afterwards TensorFlow's and absl's Python loggers are set to errors only."""
    quiet_tensorflow_env()
    if _VERBOSE:
        yield
        return
    try:
        with capture_native_stderr(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        quiet_loaded_tensorflow()


def quiet_loaded_tensorflow() -> None:
    """Errors only from TensorFlow's and absl's Python loggers, if something imported them."""
    if _VERBOSE:
        return
    if "tensorflow" in sys.modules:
        with contextlib.suppress(Exception):
            sys.modules["tensorflow"].get_logger().setLevel(logging.ERROR)
    if "absl.logging" in sys.modules:
        with contextlib.suppress(Exception):
            absl_logging = sys.modules["absl.logging"]
            absl_logging.set_verbosity(absl_logging.ERROR)


def import_tensorflow() -> ModuleType:
    """Import TensorFlow with its C++ and absl log noise silenced (unless ``--verbose``)."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    quiet_tensorflow_env()
    with capture_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow as tf  # noqa: PLC0415 (lazy on purpose)
    if not _VERBOSE:
        tf.get_logger().setLevel(logging.ERROR)
        with contextlib.suppress(Exception):
            import absl.logging  # noqa: PLC0415

            absl.logging.set_verbosity(absl.logging.ERROR)
    return tf


def import_cv2() -> ModuleType:
    import cv2  # noqa: PLC0415 (lazy on purpose)

    return cv2


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """NumPy's BLAS on one thread while the audit runs.

    The audit's arrays are one image each: OpenBLAS splitting a dot product of 10^4 numbers over
    threads costs more in waking them than it saves (on a 2-core machine with other work, a
    ``np.linalg.norm`` of a 64x64x3 tensor took 0.5-7 ms instead of 7 µs). The model's own
    thread pools (TensorFlow, ONNX Runtime) are not BLAS's and are left as they are.
    """
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415
    except ImportError:  # not installed: BLAS keeps its default threads
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
