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

A folder given as a URI (``s3://``, ``gs://``, ``file://``) is listed through pyarrow by
:mod:`skewcheck.images.discover_objects`, with the same order (:func:`walk_order`) and the same
files left out (:func:`left_out`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from skewcheck.errors import UsageError
from skewcheck.images.counted_names import CountedNames
from skewcheck.images.source import ImageFile, ImageRoot, ObjectFile, ObjectFolder

MANIFEST = "manifest.json"
MAX_LISTED = 200  # skipped entries listed by name; all of them are counted


@dataclass
class Discovery:
    """The files to audit and what was left out, with why (``{"path": ..., "reason": ...}``)."""

    files: list[ImageFile] = field(default_factory=list)
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


def walk_order(relative: str) -> tuple[tuple[int, str], ...]:
    """The sort key that puts a flat listing (an object store's) in :func:`walk_images`'s order: in
    each folder its files by name, then its subfolders by name, each one's content in turn."""
    *folders, name = relative.split("/")
    return (*((1, folder) for folder in folders), (0, name))


def left_out(relative: str, skip_names: set[str]) -> bool:
    """Not an image to audit, and not worth a line in ``skipped_files``: the probe manifest at the
    top, or a file the audit reads for another reason (the labels CSV)."""
    return relative == MANIFEST or relative in skip_names


def discover_images(root: ImageRoot, skip: set[ImageFile] | None = None) -> Discovery:
    """Walk ``root`` (see the module docstring); ``skip`` (e.g. the labels CSV) and a probe
    manifest at the top are left out silently."""
    result = Discovery()
    result.files.extend(walk_images(root, skip, result))
    return result


def walk_images(root: ImageRoot, skip: set[ImageFile] | None, result: Discovery) -> Iterator[ImageFile]:
    """The files kept, one at a time (no list of every path); what is skipped goes to ``result``."""
    if isinstance(root, ObjectFolder):
        from skewcheck.images.discover_objects import walk_objects  # it imports this module's rules

        yield from walk_objects(root, skip or set(), result)
        return
    yield from walk_folder(root, {p for p in (skip or set()) if isinstance(p, Path)}, result)


def walk_folder(root: Path, skip: set[Path], result: Discovery) -> Iterator[Path]:
    """:func:`walk_images` on a local folder."""
    return (Path(path) for path, _ in walk_local(root, skip, result))


def walk_local(root: Path, skip: set[Path], result: Discovery) -> Iterator[tuple[str, str]]:
    """:func:`walk_folder` as strings: (the file's path, its path relative to ``root``, with the
    platform's separator); no ``Path`` made a file (the profile's header pass is about as cheap)."""
    skip_ids = {i for i in (_identity(p) for p in skip) if i is not None}

    def rel(path: Path) -> str:
        return path.relative_to(root).as_posix()

    def on_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        try:
            name = rel(where)
        except ValueError:
            name = str(where)
        result.skip(name or ".", f"unreadable folder ({exc.strerror or exc})")

    top = os.fspath(root)
    prefix = top if top.endswith(os.sep) else top + os.sep
    join = os.path.join
    for dirpath, dirnames, filenames in os.walk(top, onerror=on_error):
        here = Path(dirpath)
        under = "" if dirpath == top else dirpath[len(prefix) :] + os.sep  # os.walk joins below ``top``
        kept_dirs = []
        for name in sorted(dirnames):
            if os.path.islink(here / name):  # os.walk lists links to folders here, never descends
                result.skip(rel(here / name), "symlink to a folder (not followed)")
            else:
                kept_dirs.append(name)
        dirnames[:] = kept_dirs
        for name in sorted(filenames):
            relative = under + name
            if left_out(relative, set()):
                continue
            path = join(dirpath, name)
            try:
                lst = os.lstat(path)
            except OSError as exc:
                result.skip(rel(Path(path)), f"cannot be examined ({exc.strerror or exc})")
                continue
            try:
                st = os.stat(path) if stat.S_ISLNK(lst.st_mode) else lst
            except OSError as exc:
                reason = "symlink loop" if exc.errno == errno.ELOOP else "dangling symlink"
                result.skip(
                    rel(Path(path)),
                    reason
                    if exc.errno in (errno.ELOOP, errno.ENOENT)
                    else f"symlink that cannot be followed ({exc.strerror})",
                )
                continue
            if (st.st_dev, st.st_ino) in skip_ids:
                continue
            if stat.S_ISDIR(st.st_mode):  # a link to a folder that os.walk reported as a file
                result.skip(rel(Path(path)), "symlink to a folder (not followed)")
            elif not stat.S_ISREG(st.st_mode):
                result.skip(rel(Path(path)), f"not a regular file ({_kind(st.st_mode)}; never opened)")
            else:
                yield path, relative


def iter_image_files(root: ImageRoot, skip: set[ImageFile] | None = None) -> Iterator[ImageFile]:
    """The files :func:`discover_images` keeps (what it skipped is dropped)."""
    yield from walk_images(root, skip, Discovery())


class ImageFiles:
    """``iter_image_files`` as a re-iterable with a length: every pass yields exactly the files the
    counting pass (the first) kept, even one removed since (its outcome then says so). A local
    folder's names wait in a temporary file (:mod:`skewcheck.images.counted_names`), so a folder of
    a million images costs no list of a million paths (about 400 bytes a path). A URI's listing is
    kept in memory instead (its names only): pyarrow lists a whole prefix at once anyway, and a
    second listing of a bucket costs as many requests again."""

    def __init__(self, root: ImageRoot, skip: set[ImageFile] | None = None) -> None:
        self.root, self.skip = root, skip
        self._counted: CountedNames | None = None  # a local folder's files, relative to it
        self._listed: list[str] | None = None  # a URI's files, relative to it
        self.discovery = Discovery()  # what the counting pass skipped, and why

    def __iter__(self) -> Iterator[ImageFile]:
        if isinstance(self.root, ObjectFolder):
            folder = self.root
            return (folder.file(name) for name in self._names())
        root = self.root
        return (root / name for name in self._local_names())

    def __len__(self) -> int:
        if isinstance(self.root, ObjectFolder):
            return len(self._names())
        return self._local_names().count

    def local_names(self) -> Iterator[str] | None:
        """A local folder's files as their paths relative to it (the platform's separator), in
        the order of iteration; None for a URI."""
        return None if isinstance(self.root, ObjectFolder) else iter(self._local_names())

    def _local_names(self) -> CountedNames:
        if self._counted is None:
            root = self.root
            assert isinstance(root, Path), "a URI's names are listed by _names"
            self.discovery = Discovery()
            counted = CountedNames()
            for _, relative in walk_local(
                root, {p for p in (self.skip or set()) if isinstance(p, Path)}, self.discovery
            ):
                counted.add(relative)
            counted.close()
            self._counted = counted
        return self._counted

    def _names(self) -> list[str]:
        if self._listed is None:
            self.discovery = Discovery()
            found = walk_images(self.root, self.skip, self.discovery)
            self._listed = [f.relative for f in found if isinstance(f, ObjectFile)]
        return self._listed


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
