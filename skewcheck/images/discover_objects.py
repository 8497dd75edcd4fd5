"""Discovery under a URI: the files :mod:`skewcheck.images.discover` would keep in the same tree.

An object store is listed in one recursive ``get_file_info(FileSelector(prefix, recursive=True))``
and put in the local walk's order (:func:`~skewcheck.images.discover.walk_order`); every object is
kept but the probe manifest and the labels file (:func:`~skewcheck.images.discover.left_out`),
hidden files and non-images included, as in a local folder. An object store has no symlinks,
FIFOs or loops; an entry of another kind is listed as skipped, never opened.

A ``file://`` URI resolves to pyarrow's local filesystem, whose recursive listing follows links to
folders (a link to an ancestor makes it run without end) and drops dangling links without a word:
that tree is walked by the local rules instead, and its bytes are still read through pyarrow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skewcheck.errors import UsageError, one_line
from skewcheck.images.discover import Discovery, left_out, walk_folder, walk_order
from skewcheck.images.source import ImageFile, ObjectFile, ObjectFolder, relative_name


def walk_objects(folder: ObjectFolder, skip: set[ImageFile], result: Discovery) -> Iterator[ObjectFile]:
    from pyarrow import fs

    filesystem, base = folder.resolved()
    if isinstance(filesystem, fs.LocalFileSystem):
        yield from _walk_local(folder, Path(base), skip, result)
        return
    skip_names = {f.relative for f in skip if isinstance(f, ObjectFile) and f.folder == folder}
    for name in sorted(_listed(folder, filesystem, base, skip_names, result), key=walk_order):
        yield folder.file(name)


def _listed(folder: ObjectFolder, filesystem: Any, base: str, skip_names: set[str], result: Discovery) -> list[str]:
    from pyarrow import fs

    try:
        infos = filesystem.get_file_info(fs.FileSelector(base, recursive=True))
    except Exception as exc:  # noqa: BLE001 (denied, unreachable: whatever pyarrow raises)
        raise UsageError(f"cannot list the images under {folder}: {one_line(exc)}") from None
    prefix = base.rstrip("/") + "/" if base else ""
    names = []
    for info in infos:
        if info.type == fs.FileType.Directory:
            continue
        name = info.path.removeprefix(prefix)
        if info.type != fs.FileType.File:
            result.skip(name, f"not a regular file ({info.type.name}; never opened)")
        elif not left_out(name, skip_names):
            names.append(name)
    return names


def _walk_local(folder: ObjectFolder, root: Path, skip: set[ImageFile], result: Discovery) -> Iterator[ObjectFile]:
    local_skip = {p for p in skip if isinstance(p, Path)}
    local_skip |= {root / f.relative for f in skip if isinstance(f, ObjectFile) and f.folder == folder}
    for path in walk_folder(root, local_skip, result):
        yield folder.file(relative_name(path, root))
