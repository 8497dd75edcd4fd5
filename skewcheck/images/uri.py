"""``--images`` (and ``--labels``) as a URI: resolved by pyarrow, checked once on the driver.

Each problem a user can fix is one line (a :class:`UsageError`, exit 2): pyarrow not installed, a
scheme pyarrow does not know or was built without (S3, GCS, HDFS), a bucket or prefix that is not
there, a file where a folder was meant. Credentials are pyarrow's own (``AWS_*`` variables or
``~/.aws`` for ``s3://``, ``GOOGLE_APPLICATION_CREDENTIALS`` for ``gs://``), read by each process
that opens the URI: the driver, and every Ray actor on its own node.
"""

from __future__ import annotations

from typing import Any

from skewcheck.errors import UsageError, one_line
from skewcheck.images.source import ImageRoot, ObjectFile, ObjectFolder

INSTALL_HINT = "needs pyarrow to read a URI: pip install 'skewcheck[ray]'"

# One resolution per URI and process: for s3:// it asks the bucket's region over the network.
_RESOLVED: dict[str, tuple[Any, str]] = {}


def resolve(uri: str) -> tuple[Any, str]:
    """(the pyarrow filesystem, the path the URI names in it)."""
    found = _RESOLVED.get(uri)
    if found is None:
        try:
            from pyarrow import fs
        except ImportError:
            raise UsageError(f"{uri}: skewcheck {INSTALL_HINT}") from None
        from skewcheck.native import capture_native_stderr

        with capture_native_stderr():  # libhdfs prints every JVM path it tried on descriptor 2
            filesystem, path = fs.FileSystem.from_uri(uri)
        found = _RESOLVED[uri] = (filesystem, path)
    return found


def _resolve_for(option: str, uri: str) -> tuple[Any, str]:
    scheme = uri.partition("://")[0]
    try:
        return resolve(uri)
    except UsageError:
        raise UsageError(f"{option} {uri}: skewcheck {INSTALL_HINT}") from None
    except NotImplementedError as exc:  # pyarrow built without this filesystem (ArrowNotImplementedError)
        raise UsageError(f"{option} {uri}: this pyarrow cannot open {scheme}:// URIs ({one_line(exc)})") from None
    except ValueError as exc:  # ArrowInvalid: an unknown scheme, a URI that does not parse
        raise UsageError(f"{option} {uri}: not a URI pyarrow can open ({one_line(exc)})") from None
    except OSError as exc:  # e.g. the bucket's region could not be asked, a library failed to load
        raise UsageError(f"{option} {uri}: cannot open it ({one_line(exc)})") from None


def open_folder(uri: str) -> ObjectFolder:
    """The folder ``--images URI`` names, checked to exist and to be a folder."""
    uri = uri.strip()
    filesystem, path = _resolve_for("--images", uri)
    from pyarrow.fs import FileType

    if not path:
        raise UsageError(f"--images {uri}: name a bucket (and a prefix), not the whole store")
    try:
        info = filesystem.get_file_info(path)
    except Exception as exc:  # noqa: BLE001 (denied, unreachable: whatever pyarrow raises)
        raise UsageError(f"images folder cannot be read: {uri} ({one_line(exc)})") from None
    if info.type == FileType.NotFound:
        raise UsageError(f"images folder not found: {uri}")
    if info.type == FileType.File:
        raise UsageError(f"--images must be a folder, got a file: {uri}")
    return ObjectFolder(uri)


def open_file(option: str, uri: str, images: ImageRoot) -> ObjectFile:
    """A file given as a URI (``--labels``): the object under the ``--images`` folder when it is one
    (discovery then leaves it out), else an object of its own folder."""
    uri = uri.strip()
    _resolve_for(option, uri)
    head, sep, query = uri.partition("?")  # ?region=... and other filesystem options stay with the folder
    if isinstance(images, ObjectFolder):
        images_head, _, images_query = images.uri.partition("?")
        prefix = images_head.rstrip("/") + "/"
        if head.startswith(prefix) and query == images_query:
            return images.file(head[len(prefix) :])
    parent, _, name = head.rpartition("/")
    return ObjectFolder(parent + sep + query).file(name)
