"""What one pipeline produced for one image: a tensor, or a recorded error."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from skewcheck.errors import one_line

Status = Literal["ok", "decode-error", "pipeline-error", "missing"]

# Exception types and message fragments that mean "the image could not be decoded", as opposed to
# a bug elsewhere in the pipeline. Matched on the type's qualified name so no library is imported.
_DECODE_ERROR_TYPES = {
    "PIL.UnidentifiedImageError",
    "PIL.Image.DecompressionBombError",
    "tensorflow.python.framework.errors_impl.InvalidArgumentError",
}
_DECODE_ERROR_TEXT = re.compile(
    r"cannot identify image|image file is truncated|truncated|corrupt|premature end|"
    r"not a (jpeg|png|valid image)|unknown image file format|decode|decompression ?bomb|"
    r"empty (file|image|buffer)|imdecode|invalid (jpeg|png|image)|bad huffman|"
    r"broken data stream|cannot decode",
    re.IGNORECASE,
)


def classify_error(exc: BaseException, native_lines: list[str]) -> Status:
    """Decode error when the exception or the C library's warnings say the bytes are bad."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if name in _DECODE_ERROR_TYPES and not isinstance(exc, TypeError):
        return "decode-error"
    text = f"{exc} {' '.join(native_lines)}"
    if _DECODE_ERROR_TEXT.search(text):
        return "decode-error"
    return "pipeline-error"


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
        cls, exc: BaseException, native_lines: list[str], seconds: float = 0.0
    ) -> Outcome:
        return cls(
            status=classify_error(exc, native_lines),
            error_type=type(exc).__name__,
            error=one_line(exc, limit=500),
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
