"""A worker's decode of an image, handed to the audit's process through a file in memory.

The file's decode is most of what a worker sends back with a pair's facts (a 640x480 photo:
900 KB). Through the pipe, the audit's process would copy and unpickle it while holding its GIL,
which TensorFlow's import and the diagnosis need; written to a file on a memory filesystem
(``/dev/shm`` where there is one) it is mapped there with a few system calls and no copy. The
file is unlinked as soon as it is mapped, so memory is given back when the last array over it
goes, and the folder itself is removed when the pool stops (:meth:`HandoffDir.close`).
"""

from __future__ import annotations

import dataclasses
import itertools
import mmap
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skewcheck.diagnose.facts import PairFacts

MIN_BYTES = 64 * 1024  # smaller arrays travel in the message itself


@dataclass(frozen=True)
class Spilled:
    """Bytes written to ``path`` by a worker, read back by :func:`received`."""

    path: str
    nbytes: int

    def __len__(self) -> int:
        return self.nbytes


PREFIX = "skewcheck-handoff-"


class HandoffDir:
    """A private folder for one pool's handoffs, on a memory filesystem where there is one.

    Its name carries the audit's process id: a run killed before :meth:`close` (SIGKILL, the
    machine's OOM killer) leaves its folder, and the next pool removes those whose process is gone.
    """

    def __init__(self) -> None:
        shm = "/dev/shm"
        here = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
        remove_orphans(here or tempfile.gettempdir())
        self.path = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=here)

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def remove_orphans(parent: str) -> list[str]:
    """Remove the handoff folders in ``parent`` whose process is gone; returns their paths. A folder
    named without a process id (an older skewcheck's) is left: nothing tells whether its run is over."""
    removed: list[str] = []
    try:
        entries = os.listdir(parent)
    except OSError:
        return removed
    for name in entries:
        pid = name[len(PREFIX) :].split("-", 1)[0] if name.startswith(PREFIX) else ""
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
            removed.append(os.path.join(parent, name))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (EPERM): alive
        return True
    return True


_names = itertools.count()


def sent(facts: PairFacts | None, folder: str | None) -> PairFacts | None:
    """``facts`` with the decoded file's arrays written to ``folder`` (in the worker)."""
    if facts is None or facts.reference is None or folder is None:
        return facts
    parts = list(facts.reference)
    for i in (0, 1):  # the RGB and alpha planes: (bytes, shape) or None
        if parts[i] is not None and len(parts[i][0]) >= MIN_BYTES:
            parts[i] = (_write(parts[i][0], folder), parts[i][1])
    return dataclasses.replace(facts, reference=tuple(parts))


def received(facts: PairFacts | None) -> PairFacts | None:
    """``facts`` with what :func:`sent` wrote mapped back (in the audit's process)."""
    if facts is None or facts.reference is None:
        return facts
    parts = list(facts.reference)
    for i in (0, 1):
        if parts[i] is not None and isinstance(parts[i][0], Spilled):
            parts[i] = (_map(parts[i][0]), parts[i][1])
    return dataclasses.replace(facts, reference=tuple(parts))


def _write(data: bytes, folder: str) -> Spilled | bytes:
    path = os.path.join(folder, f"{os.getpid()}-{next(_names)}")
    try:
        with open(path, "wb") as out:
            out.write(data)
    except OSError:  # the memory filesystem is full, say: the bytes go in the message
        try:
            os.unlink(path)
        except OSError:
            pass
        return data
    return Spilled(path, len(data))


def _map(spilled: Spilled) -> Any:
    """A read-only map of the file (arrays made over it stay valid after the unlink)."""
    fd = os.open(spilled.path, os.O_RDONLY)
    try:
        return mmap.mmap(fd, spilled.nbytes, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
        try:
            os.unlink(spilled.path)
        except OSError:  # Windows keeps a mapped file: the folder goes when the pool stops
            pass
