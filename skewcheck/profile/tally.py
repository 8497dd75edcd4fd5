"""Running counts of a profiled set: memory grows by a few floats a file, never by its records.

Each file's record goes to a temporary JSON Lines spool (read back once, when the profile JSON is
written); what stays in memory is a counter per trait and category, an array of doubles per
numeric property (``16 × 8`` bytes a file: 13 MB at 100,000 files), the sizes seen, and the
first ``MAX_LISTED`` decode failures.

Traits and categories are read from a handful of a record's fields (``KIND``): a file adds one to
the count of its tuple of those fields, and each rule runs once per distinct tuple when the counts
are read (a set has a few dozen), not once per file.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from json import encoder as json_encoder
from typing import Any

import numpy as np

from skewcheck.profile.properties import CATEGORIES, NUMBERS, PIXEL_NUMBERS, TRAITS, Record, failure

MAX_LISTED = 200  # decode failures listed by name; all of them are counted
# the fields every trait and category rule reads (properties.py); a record without "format" did not open
KIND = (
    "status",
    "decode",
    "format",
    "mode",
    "bit_depth",
    "alpha",
    "exif_orientation",
    "icc",
    "cmyk",
    "progressive",
    "subsampling",
    "animated",
)
_UNOPENED = (None,) * (len(KIND) - 1)  # a record that did not open: its status, nothing else
BLOCK = 1 << 20  # bytes of the spool read at a time when the JSON is written


def _compact_json() -> Callable[[Record], str]:
    """``json.dumps(record, separators=(",", ":"))``, its C encoder made once (``dumps`` makes one
    a call: a third of the cost of a record)."""
    make = getattr(json_encoder, "c_make_encoder", None)  # CPython's C accelerator
    if make is None:  # no C accelerator
        return lambda record: json.dumps(record, separators=(",", ":"))
    default = json.JSONEncoder().default
    encode = make(None, default, json_encoder.encode_basestring_ascii, None, ":", ",", False, False, True)
    return lambda record: "".join(encode(record, 0))


class _Fields(dict[str, Any]):
    """A kind of file as the rules read it: a rule that reads a field outside ``KIND`` fails
    loudly instead of counting None."""

    def get(self, key: str, default: Any = None) -> Any:
        if key not in KIND:
            raise KeyError(f"a profile rule reads {key!r}: add it to tally.KIND")
        return super().get(key, default)


class RecordSpool:
    """Records as JSON Lines in an anonymous temporary file (gone when closed or collected)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="skewcheck-profile-")
        self.count = 0
        self._encode = _compact_json()

    def append(self, record: Record) -> None:
        self._file.write((self._encode(record) + "\n").encode("ascii"))  # ASCII: non-ASCII is escaped
        self.count += 1

    def __iter__(self) -> Iterator[Record]:
        for line in self.lines():
            yield json.loads(line)

    def lines(self) -> Iterator[str]:
        """Each record as its one line of compact JSON (ASCII), as written."""
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield line.decode("ascii").rstrip("\n")
        self._file.seek(0, 2)

    def joined(self, separator: str) -> Iterator[str]:
        """The lines joined by ``separator``, in pieces of about ``BLOCK`` bytes (a record's line
        holds no newline: JSON escapes it); nothing for no records."""
        self._file.flush()
        self._file.seek(0)
        rest, first = b"", True
        while True:
            block = self._file.read(BLOCK)
            if not block:
                break
            block = rest + block
            end = block.rfind(b"\n")
            block, rest = block[:end], block[end + 1 :]
            if end >= 0:
                yield ("" if first else separator) + block.decode("ascii").replace("\n", separator)
                first = False
        self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()


class Tally:
    def __init__(self, keep_records: bool = True) -> None:
        self.files = 0
        self._traits: Counter[str] = Counter()
        self._categories: dict[str, Counter[str]] = {name: Counter() for name in CATEGORIES}
        self._numbers = {name: array("d") for name in NUMBERS}
        self.sizes: Counter[str] = Counter()  # "WxH" → files, for the resize/crop/padding traffic
        self.failures: list[dict[str, Any]] = []
        self.failure_count = 0
        self.header_failures = 0  # status ≠ ok: found on every file
        self.decode_checked = 0  # files whose headers are whole, decoded (the pixel sample)
        self.decode_failures = 0  # … whose decode failed
        self.records = RecordSpool() if keep_records else None
        self._kinds: Counter[tuple[Any, ...]] = Counter()  # (opened, *KIND fields) → files
        self._counted = 0  # of self._kinds, the files already in traits and categories
        self._header_numbers = [
            (self._numbers[n].append, rule) for n, (_, rule) in NUMBERS.items() if n not in PIXEL_NUMBERS
        ]
        self._pixel_numbers = [
            (self._numbers[n].append, rule) for n, (_, rule) in NUMBERS.items() if n in PIXEL_NUMBERS
        ]

    @property
    def traits(self) -> Counter[str]:
        self._count_kinds()
        return self._traits

    @property
    def categories(self) -> dict[str, Counter[str]]:
        self._count_kinds()
        return self._categories

    def _count_kinds(self) -> None:
        """Run each trait and category rule once per distinct kind of file (in the order the kinds
        first came: each counter's order is the order its values first came, as if counted a file
        at a time)."""
        if self._counted == self.files:
            return
        self._traits = Counter()
        self._categories = {name: Counter() for name in CATEGORIES}
        for kind, files in self._kinds.items():
            opened, *values = kind
            record = _Fields(zip(KIND, values, strict=True))
            if not opened:
                record = _Fields(status=record["status"])  # what a failed record holds (with path, bytes, error)
            for name, (_, rule) in TRAITS.items():
                if rule(record):
                    self._traits[name] += files
            for name, category in CATEGORIES.items():
                value = category(record)
                if value is not None:
                    self._categories[name][value] += files
        self._counted = self.files

    def add(self, record: Record) -> None:
        self.files += 1
        kind = (True, *map(record.get, KIND)) if "format" in record else (False, record["status"], *_UNOPENED)
        self._kinds[kind] += 1
        for append, number in (
            self._header_numbers if record.get("pixels") is None else self._header_numbers + self._pixel_numbers
        ):
            measured = number(record)
            if measured is not None:
                append(float(measured))
        if "width" in record:
            self.sizes[f"{record['width']}x{record['height']}"] += 1
        if record["status"] != "ok":
            self.header_failures += 1
        elif record.get("decode") is not None:
            self.decode_checked += 1
            self.decode_failures += record["decode"] != "ok"
        failed = failure(record)
        if failed is not None:
            self.failure_count += 1
            if len(self.failures) < MAX_LISTED:
                status, found_by = failed
                self.failures.append(
                    {"path": record["path"], "status": status, "error": record["error"], "found_by": found_by}
                )
        if self.records is not None:
            self.records.append(record)

    def values(self, name: str) -> np.ndarray:
        return np.frombuffer(self._numbers[name], dtype=np.float64) if self._numbers[name] else np.empty(0)

    def decoded(self) -> int:
        """Files whose headers are whole and whose full decode succeeded (of the pixel sample)."""
        return self.decode_checked - self.decode_failures

    def opened(self) -> int:
        """Files whose headers could be read (the denominator of the categories but ``status``)."""
        return sum(self.categories["format"].values())
