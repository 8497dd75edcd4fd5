"""A profile as a value: its plain data (``to_dict()``, what every format renders from) and the
per-file records, streamed into the JSON (``skewcheck.profile/v2``, docs/profile.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from skewcheck.profile.tally import RecordSpool

SCHEMA = "skewcheck.profile/v2"
# v2: the pixel statistics are measured on an image whose long side is exactly thumbnail_side
# (v1: at most that, 65-128 px depending on the file's size, so blur moved with it); nothing else
# changed. compare --traffic reads no pixel statistic: it takes both.
READABLE = ("skewcheck.profile/v1", SCHEMA)


@dataclass
class Profile:
    data: dict[str, Any]  # everything but the per-file records; "schema" first
    records: RecordSpool | None = None

    def to_dict(self, files: bool = False) -> dict[str, Any]:
        """The plain data; ``files`` adds the per-file records (a list of them all)."""
        return {**self.data, "files": list(self.records or ())} if files else dict(self.data)

    def iter_json(self, indent: int = 2) -> Iterator[str]:
        """The JSON of ``self.to_dict(files=True)`` in pieces: the summary indented, then one file
        record a line (compact, as the spool holds it: no record is decoded and encoded again; the
        spool's lines are joined a block of lines at a time)."""
        head = json.dumps(self.data, indent=indent, ensure_ascii=False)
        assert head.endswith("\n}")
        yield head[:-2] + ",\n" + " " * indent + '"files": ['
        pad = "\n" + " " * (2 * indent)
        first = True
        for piece in self.records.joined("," + pad) if self.records is not None else ():
            yield (pad if first else "") + piece
            first = False
        yield ("]" if first else "\n" + " " * indent + "]") + "\n}\n"

    def write_json(self, out: IO[str]) -> None:
        for piece in self.iter_json():
            out.write(piece)

    def close(self) -> None:
        if self.records is not None:
            self.records.close()
