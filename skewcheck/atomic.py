"""Write a file so that readers see the old content or the new one, never a part of either.

A report written in place (``open(path, "w")``) is empty from the first byte on: a full disk, a
file-size limit, a second writer or a kill in the middle leaves a truncated file where the last
good report was. :func:`write_atomic` writes a temporary file in the same folder (same file
system, so the rename is atomic), flushes it to the disk, and only then renames it over the
target. On any failure the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO


def _new_file_mode(target: Path) -> int:
    """The mode a plain ``open(target, "w")`` would give: the old file's, else 0666 less the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: Path | str, data: str | bytes, encoding: str = "utf-8", errors: str = "strict") -> None:
    """Replace ``path`` with ``data`` in one step (temporary file in the same folder, fsync, rename)."""
    payload = data.encode(encoding, errors) if isinstance(data, str) else data
    write_atomic_with(path, lambda out: out.write(payload))


def write_atomic_text(
    path: Path | str, write: Callable[[TextIO], object], encoding: str = "utf-8", errors: str = "strict"
) -> None:
    """Like :func:`write_atomic`, for content streamed by ``write(text_file)`` (a report written
    one record at a time)."""

    def binary(out: BinaryIO) -> None:
        text = io.TextIOWrapper(out, encoding=encoding, errors=errors, newline="")
        write(text)
        text.flush()
        text.detach()

    write_atomic_with(path, binary)


def write_atomic_with(path: Path | str, write: Callable[[BinaryIO], object]) -> None:
    target = Path(os.path.realpath(path))  # a symlinked report path: replace the file it points to
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _new_file_mode(target)
    tmp = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False)
    try:
        with tmp:
            write(tmp)  # type: ignore[arg-type]  # a NamedTemporaryFile wraps a binary file
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, mode)
        os.replace(tmp.name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (best effort)
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
