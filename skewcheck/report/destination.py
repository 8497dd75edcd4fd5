"""Where a ``--report`` path leads, decided before anything is written there.

A regular file (or a new one) is replaced atomically (:mod:`skewcheck.atomic`). A FIFO, a
``/dev/fd/N`` from the shell's ``>(…)``, a terminal or ``/dev/null`` cannot be renamed over: the
report is streamed into it, as ``> PATH`` would. A dangling symlink is refused: creating whatever
it names (folders included) is not what the user pointed at; so are folders, symlink loops and
sockets. Only ``lstat``/``stat`` are used: nothing is opened to decide.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Literal

from skewcheck.atomic import write_atomic_text
from skewcheck.errors import UsageError

Destination = Literal["file", "stream"]
# file extension → format, for every command's --report PATH (compare adds its own, e.g. .sarif)
EXTENSIONS = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".xml": "junit",
    ".html": "html",
    ".htm": "html",
}


def report_format(
    path: Path,
    known: Iterable[str],
    explicit: str | None = None,
    extensions: Mapping[str, str] = EXTENSIONS,
    has_flag: bool = True,
) -> str:
    """The format of a report file: from its extension; ``explicit`` (--format) when that does not
    tell. UsageError (one line) for an unknown format or an extension that tells nothing; the
    message offers --format where the command ``has_flag``."""
    names = sorted(set(known))
    if explicit is not None and explicit not in names:
        raise UsageError(f"unknown report format {explicit!r} (known: {', '.join(names)})")
    fmt = extensions.get(path.suffix.lower()) or explicit
    if fmt is None:
        raise UsageError(
            f"cannot tell the report format of {path} from its extension (known: {', '.join(extensions)}"
            + (f"; or pass --format {'|'.join(names)})" if has_flag else ")")
        )
    return fmt


def report_destination(path: Path) -> Destination:
    """``file`` (replaced atomically) or ``stream`` (written in place); UsageError for a path that
    must not be written (the message is one line)."""
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        return "file"  # a new report: its folders are created
    except OSError as exc:
        raise UsageError(f"cannot write report {path}: {exc.strerror or exc}") from None
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if not stat.S_ISLNK(link.st_mode):
            raise UsageError(f"cannot write report {path}: {exc.strerror or exc}") from None
        if exc.errno == errno.ELOOP:
            raise UsageError(f"cannot write report {path}: it is a symlink loop") from None
        raise UsageError(
            f"cannot write report {path}: it is a dangling symlink (to {os.readlink(path)}); "
            "point it at an existing file, or remove it"
        ) from None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return "stream"
    what = "a folder" if stat.S_ISDIR(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file"
    raise UsageError(f"cannot write report {path}: it is {what}")


def is_replaceable_report(path: Path) -> bool:
    """True for a report a run may remove (a regular file, or a link to one): never a FIFO or a device."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def write_report_file(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Write one report (of any command) where ``path`` leads: a regular file atomically (a failed
    or interrupted write leaves the old file), a FIFO or ``/dev/fd/N`` in place; ``write`` puts the
    text into the open file. UTF-8, undecodable file names as backslash escapes; an OSError is a
    one-line UsageError."""
    streamed = report_destination(path) == "stream"
    try:
        if streamed:
            with open(path, "w", encoding="utf-8", errors="backslashreplace", newline="") as out:
                write(out)
        else:
            write_atomic_text(path, write, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        raise UsageError(f"cannot write report {path}: {exc.strerror or exc}") from None
