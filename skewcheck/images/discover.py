"""The files an audit runs on: every regular file under ``--images``, garbage included.

What is walked, and what is not (the policy the report's ``summary.skipped_files`` lists):

* every regular file under the folder, in a stable (sorted) order, whatever its name or content:
  production receives text files named ``.jpg`` too;
* a **symlink to a file** is followed wherever it points, inside or outside ``--images``: a data
  set is often a folder of links into a shared store, and the link's own path (under
  ``--images``) names the image in the report;
* a **symlink to a folder** is not descended (no loops, no image counted twice) and is listed as
  skipped, as are dangling symlinks, symlink loops, FIFOs, sockets and devices (never opened, so
  a FIFO cannot block the audit) and folders that cannot be read.

Only ``lstat``/``stat`` are used to decide; no skipped entry is ever opened.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from skewcheck.errors import UsageError

MANIFEST = "manifest.json"
MAX_LISTED = 200  # skipped entries listed by name; all of them are counted


@dataclass
class Discovery:
    """The files to audit and what was left out, with why (``{"path": ..., "reason": ...}``)."""

    files: list[Path] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    skipped_count: int = 0

    def skip(self, path: str, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_LISTED:
            self.skipped.append({"path": path, "reason": reason})

    def summary(self) -> list[dict[str, str]]:
        """What the report's ``summary.skipped_files`` holds: one ``{path, reason}`` per entry,
        the last one saying how many more there were when over :data:`MAX_LISTED`."""
        more = self.skipped_count - len(self.skipped)
        return [*self.skipped, *([{"path": "…", "reason": f"{more} more skipped entries"}] if more else [])]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def discover_images(root: Path, skip: set[Path] | None = None) -> Discovery:
    """Walk ``root`` (see the module docstring); ``skip`` (e.g. the labels CSV) and a probe
    manifest at the top are left out silently."""
    result = Discovery()
    result.files.extend(walk_images(root, skip, result))
    return result


def walk_images(root: Path, skip: set[Path] | None, result: Discovery) -> Iterator[Path]:
    """The files kept, one at a time (no list of every path); what is skipped goes to ``result``."""
    skip_ids = {i for i in (_identity(p) for p in (skip or set())) if i is not None}

    def rel(path: Path) -> str:
        return path.relative_to(root).as_posix()

    def on_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        try:
            name = rel(where)
        except ValueError:
            name = str(where)
        result.skip(name or ".", f"unreadable folder ({exc.strerror or exc})")

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        here = Path(dirpath)
        kept_dirs = []
        for name in sorted(dirnames):
            if os.path.islink(here / name):  # os.walk lists links to folders here, never descends
                result.skip(rel(here / name), "symlink to a folder (not followed)")
            else:
                kept_dirs.append(name)
        dirnames[:] = kept_dirs
        for name in sorted(filenames):
            path = here / name
            if name == MANIFEST and here == root:
                continue
            try:
                lst = os.lstat(path)
            except OSError as exc:
                result.skip(rel(path), f"cannot be examined ({exc.strerror or exc})")
                continue
            try:
                st = os.stat(path) if stat.S_ISLNK(lst.st_mode) else lst
            except OSError as exc:
                reason = "symlink loop" if exc.errno == errno.ELOOP else "dangling symlink"
                result.skip(
                    rel(path),
                    reason
                    if exc.errno in (errno.ELOOP, errno.ENOENT)
                    else f"symlink that cannot be followed ({exc.strerror})",
                )
                continue
            if (st.st_dev, st.st_ino) in skip_ids:
                continue
            if stat.S_ISDIR(st.st_mode):  # a link to a folder that os.walk reported as a file
                result.skip(rel(path), "symlink to a folder (not followed)")
            elif not stat.S_ISREG(st.st_mode):
                result.skip(rel(path), f"not a regular file ({_kind(st.st_mode)}; never opened)")
            else:
                yield path


def iter_image_files(root: Path, skip: set[Path] | None = None) -> Iterator[Path]:
    """The files :func:`discover_images` keeps (what it skipped is dropped)."""
    yield from walk_images(root, skip, Discovery())


class ImageFiles:
    """``iter_image_files`` as a re-iterable with a length: each pass walks the folder again, so a
    folder of a million images costs no list of a million paths (about 400 bytes a path)."""

    def __init__(self, root: Path, skip: set[Path] | None = None) -> None:
        self.root, self.skip = root, skip
        self._len: int | None = None
        self.discovery = Discovery()  # what the counting pass skipped, and why

    def __iter__(self) -> Iterator[Path]:
        return iter_image_files(self.root, self.skip)

    def __len__(self) -> int:
        if self._len is None:
            self.discovery = Discovery()
            self._len = sum(1 for _ in walk_images(self.root, self.skip, self.discovery))
        return self._len


def check_images_dir(root: Path) -> Path:
    """The ``--images`` folder as an absolute path (a pipeline's ``os.chdir`` cannot move it)."""
    try:
        exists, is_dir = root.exists(), root.is_dir()
    except (OSError, ValueError) as exc:  # a loop, a name too long, a NUL byte
        raise UsageError(f"images folder cannot be read: {root} ({exc})") from None
    if not exists:
        raise UsageError(f"images folder not found: {root}")
    if not is_dir:
        raise UsageError(f"--images must be a folder, got a file: {root}")
    return root.absolute()


def relative_name(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
