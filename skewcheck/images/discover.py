"""The files an audit runs on: every file under ``--images``, garbage included."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from skewcheck.errors import UsageError

MANIFEST = "manifest.json"


def iter_image_files(root: Path, skip: set[Path] | None = None) -> Iterator[Path]:
    """Every regular file under ``root`` in a stable order, except a probe manifest and ``skip``.

    Non-images stay in on purpose: production receives text files named ``.jpg`` too.
    """
    skip = {p.resolve() for p in (skip or set())}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name == MANIFEST and Path(dirpath) == root:
                continue
            if path.resolve() in skip or not path.is_file():
                continue
            yield path


class ImageFiles:
    """``iter_image_files`` as a re-iterable with a length: each pass walks the folder again, so a
    folder of a million images costs no list of a million paths (about 400 bytes a path)."""

    def __init__(self, root: Path, skip: set[Path] | None = None) -> None:
        self.root, self.skip = root, skip
        self._len: int | None = None

    def __iter__(self) -> Iterator[Path]:
        return iter_image_files(self.root, self.skip)

    def __len__(self) -> int:
        if self._len is None:
            self._len = sum(1 for _ in self)
        return self._len


def check_images_dir(root: Path) -> Path:
    if not root.exists():
        raise UsageError(f"images folder not found: {root}")
    if not root.is_dir():
        raise UsageError(f"--images must be a folder, got a file: {root}")
    return root


def relative_name(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
