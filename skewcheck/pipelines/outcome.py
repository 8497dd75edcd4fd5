"""What one pipeline produced for one image: a tensor, or a recorded error.

Decode error or pipeline error is decided by where the exception came from, never by what its
message (or anything the pipeline printed) says: a ``KeyError('decoder_config')`` or a
``ValueError('... truncated ...')`` raised by the user's own code is a pipeline bug, while an
``OSError`` raised inside Pillow ("image file is truncated") means the bytes did not decode. See
:func:`classify_error`.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import numpy as np

from skewcheck.errors import one_line, safe_text, type_name

Status = Literal["ok", "decode-error", "pipeline-error", "missing"]

DEFAULT_MAX_TENSOR_MB = 512.0

# Exception types that mean "the bytes are not a decodable image" wherever they are raised.
# Matched on the type's qualified name, so no library is imported to classify.
_DECODE_ERROR_TYPES = {
    "PIL.UnidentifiedImageError",
    "PIL.Image.DecompressionBombError",
}
# Raised by a decoder library's own code (the innermost traceback frame is in that library), these
# types are that library refusing the bytes: Pillow's "image file is truncated", "broken data
# stream", "unrecognized data stream contents", "cannot load this image" (OSError) and "broken PNG
# file" (SyntaxError), imageio's readers. OSError subclasses with an errno (FileNotFoundError,
# PermissionError...) are excluded: those are the pipeline opening the wrong path.
_DECODER_MODULES = ("PIL", "imageio")
_DECODER_RAISED_TYPES = (OSError, SyntaxError, EOFError)
# OpenCV raises cv2.error from C++; its ``func`` attribute names the function that failed.
_CV2_DECODE_FUNCS = {"imdecode", "imdecode_", "imread", "imread_", "imdecodemulti", "imreadmulti"}
# TensorFlow's decode ops (tf.io.decode_jpeg/png/gif/bmp/image, ...) fail with an OpError; the op
# name is part of the status TensorFlow attaches to the exception ("[Op:DecodeJpeg]").
_TF_DECODE_OP = re.compile(r"\bDecode(Jpeg|Png|Gif|Bmp|Webp|Image|AndCropJpeg)\b")

# The only free text ever classified: the error message a foreign system wrote into a
# ``tensors:DIR`` ``.error`` file, where no exception exists to look at.
_FOREIGN_DECODE_TEXT = re.compile(
    r"cannot identify image|image file is truncated|premature end|not a (jpeg|png|valid image)|"
    r"unknown image file format|decompression ?bomb|imdecode|invalid (jpeg|png|image)|"
    r"bad huffman|broken data stream|cannot decode|corrupt (jpeg|png|image)|decode failed",
    re.IGNORECASE,
)

# Native stderr kept per outcome, and per pipeline over a whole run.
MAX_NATIVE_LINES = 20
MAX_NATIVE_BYTES = 4096
RUN_NATIVE_LINES = 2000
RUN_NATIVE_BYTES = 256 * 1024


def _innermost_module(tb: TracebackType | None) -> str:
    """The module of the frame the exception was raised in ('' when there is no traceback)."""
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return str(tb.tb_frame.f_globals.get("__name__", ""))


def _in_package(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _decoder_raised(exc: BaseException) -> bool:
    """True when ``exc`` is a decoder library refusing bytes, judged by its type and origin."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if name in _DECODE_ERROR_TYPES:
        return True
    module = type(exc).__module__ or ""
    if module.startswith("cv2") and type(exc).__name__ == "error":
        return str(getattr(exc, "func", "")) in _CV2_DECODE_FUNCS
    if module.startswith("tensorflow") and _is_tf_op_error(exc):
        return bool(_TF_DECODE_OP.search(safe_text(exc))) or _through_tf_decode(exc.__traceback__)
    if isinstance(exc, _DECODER_RAISED_TYPES) and _in_package(_innermost_module(exc.__traceback__), _DECODER_MODULES):
        return not (isinstance(exc, OSError) and exc.errno is not None)
    return False


def _is_tf_op_error(exc: BaseException) -> bool:
    return any(c.__name__ == "OpError" and c.__module__.startswith("tensorflow") for c in type(exc).__mro__)


def _through_tf_decode(tb: TracebackType | None) -> bool:
    """A frame of TensorFlow's image ops named decode_* is on the way to the raise."""
    while tb is not None:
        code = tb.tb_frame.f_code
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith("tensorflow") and "image_ops" in module and code.co_name.startswith("decode"):
            return True
        tb = tb.tb_next
    return False


def classify_error(
    exc: BaseException, native_lines: list[str] | None = None, *, decoder_refused: bool = False
) -> Status:
    """``decode-error`` when a decoder library refused the bytes, else ``pipeline-error``.

    The exception counts as the decoder's when it, or an exception it was explicitly raised
    ``from``, is of a decoder library's own type or was raised inside that library (see the module
    docstring). ``decoder_refused``: during this run ``cv2.imdecode`` / ``cv2.imread`` returned
    ``None`` (OpenCV's way of refusing bytes), so whatever the pipeline raised next follows from
    undecodable bytes. ``native_lines`` (what C libraries printed) is evidence for the report and
    never changes the classification.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _decoder_raised(current):
            return "decode-error"
        current = current.__cause__
    return "decode-error" if decoder_refused else "pipeline-error"


def classify_foreign_text(text: str) -> Status:
    """An error message written by a foreign system (no exception to inspect): its words only."""
    return "decode-error" if _FOREIGN_DECODE_TEXT.search(text) else "pipeline-error"


class DecoderWatch:
    """While a pipeline runs, notes when ``cv2.imdecode`` / ``cv2.imread`` return ``None``.

    OpenCV does not raise on bytes it cannot decode; it returns ``None`` and the pipeline fails
    later (or raises its own error). Wrapping the two functions on the ``cv2`` module for the call
    catches pipelines that call them as ``cv2.imdecode(...)``; a name imported with ``from cv2
    import imdecode`` before the run is not seen.
    """

    _NAMES = ("imdecode", "imread")

    def __init__(self) -> None:
        self.refused = False

    @contextlib.contextmanager
    def watching(self) -> Iterator[DecoderWatch]:
        cv2 = sys.modules.get("cv2")
        originals: dict[str, Any] = {}
        if cv2 is not None:
            for name in self._NAMES:
                fn = getattr(cv2, name, None)
                if fn is None or getattr(fn, "_skewcheck_watch", False):
                    continue
                originals[name] = fn
                with contextlib.suppress(Exception):
                    setattr(cv2, name, self._wrap(fn))
        try:
            yield self
        finally:
            for name, fn in originals.items():
                with contextlib.suppress(Exception):
                    setattr(cv2, name, fn)

    def _wrap(self, fn: Any) -> Any:
        def watched(*args: Any, **kwargs: Any) -> Any:
            result = fn(*args, **kwargs)
            if result is None or (isinstance(result, np.ndarray) and result.size == 0):
                self.refused = True
            return result

        watched._skewcheck_watch = True  # type: ignore[attr-defined]
        watched.__doc__ = getattr(fn, "__doc__", None)
        return watched


class NativeBudget:
    """Caps what C libraries printed: per outcome, and over all the runs of one pipeline."""

    def __init__(self, run_lines: int = RUN_NATIVE_LINES, run_bytes: int = RUN_NATIVE_BYTES) -> None:
        self.lines_left = run_lines
        self.bytes_left = run_bytes

    def cap(self, lines: list[str]) -> list[str]:
        kept: list[str] = []
        size = 0
        for line in lines:
            line = line if len(line) <= 500 else line[:499] + "…"
            cost = len(line.encode("utf-8", "replace")) + 1
            if len(kept) >= MAX_NATIVE_LINES or size + cost > MAX_NATIVE_BYTES:
                break
            if self.lines_left <= 0 or self.bytes_left < cost:
                break
            kept.append(line)
            size += cost
            self.lines_left -= 1
            self.bytes_left -= cost
        more = len(lines) - len(kept)
        if more:
            budget = (
                " (this pipeline's stderr budget for the run is spent)"
                if self.lines_left <= 0 or self.bytes_left <= 0
                else ""
            )
            kept.append(f"… {more} more line{'s' if more != 1 else ''}{budget}")
        return kept


def cap_native(lines: list[str]) -> list[str]:
    """Per-outcome cap only (no run budget)."""
    return NativeBudget(sys.maxsize, sys.maxsize).cap(lines)


def tensor_too_large(tensor: np.ndarray, max_tensor_mb: float | None) -> Outcome | None:
    """A pipeline-error outcome when ``tensor`` is over the --max-tensor-mb limit, else None."""
    if max_tensor_mb is None:
        return None
    size = int(tensor.nbytes)
    if size <= max_tensor_mb * 1024 * 1024:
        return None
    return Outcome(
        status="pipeline-error",
        error_type="TensorTooLarge",
        error=f"tensor of {size / 1024 / 1024:,.1f} MiB (shape {list(tensor.shape)}, {tensor.dtype}) exceeds --max-tensor-mb {max_tensor_mb:g}",
    )


@dataclass
class Outcome:
    """One pipeline run on one image. ``tensor`` is dropped once the image has been compared."""

    status: Status
    tensor: np.ndarray | None = None
    error_type: str | None = None
    error: str | None = None
    native_warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.tensor is not None

    @classmethod
    def from_exception(
        cls, exc: BaseException, native_lines: list[str], seconds: float = 0.0, *, decoder_refused: bool = False
    ) -> Outcome:
        return cls(
            status=classify_error(exc, native_lines, decoder_refused=decoder_refused),
            error_type=type_name(exc),
            error=one_line(exc, limit=500),  # never raises: a user's __str__ may
            native_warnings=native_lines,
            seconds=seconds,
        )

    def summary(self) -> dict[str, Any]:
        """Plain-data view for reports (no tensor)."""
        out: dict[str, Any] = {"status": self.status}
        if self.tensor is not None:
            t = self.tensor
            out["shape"] = list(t.shape)
            out["dtype"] = str(t.dtype)
            if t.size and np.issubdtype(t.dtype, np.number):
                out["range"] = [float(np.min(t)), float(np.max(t))]
        if self.error is not None:
            out["error_type"] = self.error_type
            out["error"] = self.error
        if self.native_warnings:
            out["native_warnings"] = self.native_warnings
        if self.notes:
            out["notes"] = self.notes
        out["seconds"] = round(self.seconds, 6)
        return out
