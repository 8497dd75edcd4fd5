"""The files a counting pass kept, kept in a temporary file so every later pass runs on exactly them.

Walking ``--images`` again for the audit would drop, without a word, a file that was counted and
then removed (the report would neither list nor count it), and would shift which files a
``--sample`` draws. Instead the counting pass writes each kept name here (its bytes, ``\\0``
between names: a file name never holds one), and later passes read them back: a file removed in
the meantime is still an image of the audit, whose pipelines' outcome says it vanished
(``skewcheck.execution.image_runs.run_image``). About 40 bytes a name on disk, none in memory.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from collections.abc import Iterator


class CountedNames:
    """Names written once (:meth:`add`, then :meth:`close`), then read by any number of passes."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="skewcheck-names-")  # gone when closed, or at exit
        self.count = 0

    def add(self, name: str) -> None:
        self._file.write(os.fsencode(name) + b"\0")
        self.count += 1

    def close(self) -> None:
        """Done writing: what was added is on disk for the readers."""
        self._file.flush()

    def __iter__(self) -> Iterator[str]:
        if not self.count:
            return
        # each pass maps the file for itself: two passes at once never share a read position
        with mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) as names:
            start = 0
            while start < len(names):
                end = names.find(b"\0", start)
                yield os.fsdecode(names[start:end])
                start = end + 1
