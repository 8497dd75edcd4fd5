"""A ``.keras`` file's zip members checked before Keras reads them.

Keras reads ``config.json`` whole into memory and parses it, and its own guard against
decompression bombs starts at 4 GiB: a 380 KB archive whose ``config.json`` inflates to 400 MB
took the process to 1.8 GB before any error. So, from the archive's directory (nothing is
inflated):

- a ``.json`` member may hold at most :data:`MAX_JSON_BYTES` (a real ``config.json`` is kilobytes);
- any member larger than :data:`BOMB_FLOOR_BYTES` may not inflate to more than
  :data:`MAX_EXPANSION` times what it stores (Keras writes its members uncompressed, 1:1).

The sizes checked are the declared ones, and they bound what is read: Python's ``zipfile`` stops
a member at its declared size, whatever its compressed stream holds.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from skewcheck.errors import UsageError, one_line

MAX_JSON_BYTES = 64 * 2**20
BOMB_FLOOR_BYTES = 64 * 2**20
MAX_EXPANSION = 100


def check_keras_archive(path: Path) -> None:
    """Raise UsageError when a member of ``path`` may inflate to more than it should."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise UsageError(f"cannot load model {path}: not a readable .keras zip archive ({one_line(exc)})") from None
    for member in members:
        if member.filename.lower().endswith(".json") and member.file_size > MAX_JSON_BYTES:
            raise _refused(path, member, f"at most {MAX_JSON_BYTES // 2**20} MiB for a .json member")
        if member.file_size > BOMB_FLOOR_BYTES and member.file_size > MAX_EXPANSION * member.compress_size:
            raise _refused(path, member, f"{member.compress_size:,} bytes stored: a decompression bomb?")


def _refused(path: Path, member: zipfile.ZipInfo, why: str) -> UsageError:
    return UsageError(
        f"cannot load model {path}: its member {member.filename!r} inflates to {member.file_size:,} bytes ({why})"
    )
