"""Per-image records on disk: memory stays flat whatever the number of images.

The audit appends one small record per image as it is made; they go to a temporary JSON Lines
file, not a list, and the reports stream them back. ``RecordFile`` is also the read side: a
read-only sequence (``len``, iteration, indexing) that reads the file lazily, so
``report.images`` works for API users as a list did. The file is deleted when the object is
closed, garbage collected, or at interpreter exit, whichever comes first.
"""

from __future__ import annotations

import json
import os
import tempfile
import weakref
from array import array
from collections.abc import Iterator, Sequence
from typing import Any, overload


def _remove(path: str, handle: Any) -> None:
    try:
        handle.close()
    except OSError:
        pass
    try:
        os.unlink(path)
    except OSError:
        pass


class RecordFile(Sequence[dict[str, Any]]):
    """Records written as JSON Lines to a temporary file; read back lazily, in order.

    Values round-trip through JSON: tuples come back as lists. NaN and infinities are kept
    (Python's JSON reads them back); the JSON report writes them as ``null``.
    """

    def __init__(self, directory: str | None = None) -> None:
        fd, self.path = tempfile.mkstemp(prefix="skewcheck-records-", suffix=".jsonl", dir=directory)
        self._file = os.fdopen(fd, "w+b")
        self._offsets = array("q")  # byte offset of each record: 8 bytes an image, for indexing
        self._end = 0
        self._finalizer = weakref.finalize(self, _remove, self.path, self._file)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, allow_nan=True, separators=(",", ":")).encode("utf-8") + b"\n"
        if self._file.tell() != self._end:
            self._file.seek(self._end)
        self._file.write(line)
        self._offsets.append(self._end)
        self._end += len(line)

    def close(self) -> None:
        """Delete the file; the records are gone after this."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __len__(self) -> int:
        return len(self._offsets)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._check_open()
        self._file.flush()
        count = len(self._offsets)  # records appended while iterating are not seen
        with open(self.path, "rb") as f:  # a handle of its own: appends and indexing may interleave
            for _ in range(count):
                yield json.loads(f.readline())

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self._offsets)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("record index out of range")
        self._check_open()
        self._file.flush()
        self._file.seek(self._offsets[index])
        return json.loads(self._file.readline())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (RecordFile, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<RecordFile {len(self)} records{' (closed)' if self.closed else ''}>"

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("the records of this report were closed (Report.close()) and deleted")
