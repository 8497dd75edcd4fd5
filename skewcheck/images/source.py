"""Where an image's bytes come from: a local file (a ``Path``) or an object under a URI.

``--images`` is a local folder or a URI that ``pyarrow.fs.FileSystem.from_uri`` resolves
(``s3://``, ``gs://``, ``file://``...). Every reader of an image — the pipelines, the driver's
re-renders for diagnosis and attribution, an endpoint's request, a snapshot's hash — takes an
:data:`ImageFile` and reads its bytes when it needs them (``read_bytes()``, which a ``Path`` has
too), so no reader needs a local path and nothing keeps the bytes once that reader is done.

An :class:`ObjectFolder` pickles as its URI alone: a worker process or a Ray actor resolves the
URI itself, with the credentials of its own node (pyarrow's usual environment).
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypeAlias

from skewcheck.errors import one_line

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(value: object) -> bool:
    """``scheme://...`` given as text (a ``Path`` has already lost the second slash)."""
    return isinstance(value, str) and _URI.match(value.strip()) is not None


@dataclass(frozen=True)
class ObjectFolder:
    """The folder a URI names; what it holds is read through the filesystem pyarrow gives for it."""

    uri: str

    def resolved(self) -> tuple[Any, str]:
        """(the pyarrow filesystem, the folder's path in it), resolved once per process."""
        from skewcheck.images.uri import resolve

        return resolve(self.uri)

    def file(self, relative: str) -> ObjectFile:
        return ObjectFile(self, relative)

    def path_of(self, relative: str) -> str:
        base = self.resolved()[1]
        return f"{base.rstrip('/')}/{relative}" if base else relative  # "/" (file:///) keeps its slash

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True)
class ObjectFile:
    """One object under an :class:`ObjectFolder`; ``relative`` is its path below the folder
    (posix), the name the report gives it, as the local engine names ``a/b.png`` under a folder."""

    folder: ObjectFolder
    relative: str

    def read_bytes(self) -> bytes:
        """The object's bytes; any failure (missing, denied, network) is an ``OSError``, as for a
        local file, so every reader records it against this image."""
        try:
            filesystem = self.folder.resolved()[0]
            with filesystem.open_input_stream(self.folder.path_of(self.relative)) as stream:
                return bytes(stream.read())
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 (pyarrow's own errors, an unresolvable URI on this node)
            raise OSError(f"cannot read {self}: {one_line(exc)}") from None

    def is_file(self) -> bool:
        """As ``Path.is_file()``: False where it is not there, is a folder, or cannot be looked at."""
        from pyarrow import fs

        try:
            info = self.folder.resolved()[0].get_file_info(self.folder.path_of(self.relative))
        except Exception:  # noqa: BLE001 (pyarrow's errors, an unresolvable URI)
            return False
        return bool(info.type == fs.FileType.File)

    @property
    def name(self) -> str:
        """The last part of the path, as ``Path.name``."""
        return PurePosixPath(self.relative).name

    def __str__(self) -> str:
        head, sep, query = self.folder.uri.partition("?")
        return f"{head.rstrip('/')}/{self.relative}{sep}{query}"


@dataclass(frozen=True, eq=False)
class HeldObjectFile(ObjectFile):
    """An object whose bytes, once read, are kept by this instance: both pipelines and their
    repeat runs on one image cost one request to the store, and see the same bytes."""

    _held: list[bytes] = field(default_factory=list, repr=False)

    def read_bytes(self) -> bytes:
        if not self._held:
            self._held.append(super().read_bytes())
        return self._held[0]


def held_while_run(file: ImageFile) -> ImageFile:
    """What the pipelines get for one image: an object read at most once for all its runs (the
    bytes go with this instance, when the image is done); a local file as it is."""
    return HeldObjectFile(file.folder, file.relative) if isinstance(file, ObjectFile) else file


ImageFile: TypeAlias = Path | ObjectFile
ImageRoot: TypeAlias = Path | ObjectFolder  # what --images names


def relative_name(file: ImageFile, root: ImageRoot) -> str:
    """The image's path relative to ``--images``, posix: its name in the report."""
    if isinstance(file, ObjectFile):
        return file.relative
    if isinstance(root, ObjectFolder):
        raise ValueError(f"{file} is a local file, not under {root}")
    return file.relative_to(root).as_posix()


def file_under(root: ImageRoot, relative: str) -> ImageFile:
    """The file at ``relative`` (posix) under ``root``."""
    return root.file(relative) if isinstance(root, ObjectFolder) else Path(root) / relative


def read_image_bytes(file: ImageFile | str) -> bytes:
    return Path(file).read_bytes() if isinstance(file, str) else file.read_bytes()


@contextlib.contextmanager
def local_path(file: ImageFile) -> Iterator[Path]:
    """A path on this machine holding the image, for a pipeline that takes a path: the file itself,
    or a temporary copy of the object, removed afterwards. The copy keeps the object's path below
    ``--images`` (``TMP/cat/001.jpg``): a pipeline may read the class from the folder name."""
    if not isinstance(file, ObjectFile):
        yield file
        return
    below = PurePosixPath(file.relative)
    if below.is_absolute() or any(part in ("..", ".") for part in below.parts):
        below = PurePosixPath(file.name)  # an object key may hold anything: never write outside the copy's folder
    with tempfile.TemporaryDirectory(prefix="skewcheck-object-") as folder:
        copy = Path(folder, *below.parts)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(file.read_bytes())
        yield copy
