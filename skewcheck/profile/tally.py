"""Running counts of a profiled set: memory grows by a few floats a file, never by its records.

Each file's record goes to a temporary JSON Lines spool (read back once, when the profile JSON is
written); what stays in memory is a counter per trait and category, an array of doubles per
numeric property (``16 × 8`` bytes a file: 13 MB at 100,000 files), the sizes seen, and the
first ``MAX_LISTED`` decode failures.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from skewcheck.profile.properties import CATEGORIES, NUMBERS, PIXEL_NUMBERS, TRAITS, Record, failure

MAX_LISTED = 200  # decode failures listed by name; all of them are counted


class RecordSpool:
    """Records as JSON Lines in an anonymous temporary file (gone when closed or collected)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="skewcheck-profile-")
        self.count = 0

    def append(self, record: Record) -> None:
        self._file.write(json.dumps(record, separators=(",", ":")).encode("utf-8") + b"\n")
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

    def close(self) -> None:
        self._file.close()


class Tally:
    def __init__(self, keep_records: bool = True) -> None:
        self.files = 0
        self.traits: Counter[str] = Counter()
        self.categories: dict[str, Counter[str]] = {name: Counter() for name in CATEGORIES}
        self._numbers = {name: array("d") for name in NUMBERS}
        self.sizes: Counter[str] = Counter()  # "WxH" → files, for the resize/crop/padding traffic
        self.failures: list[dict[str, Any]] = []
        self.failure_count = 0
        self.header_failures = 0  # status ≠ ok: found on every file
        self.decode_checked = 0  # files whose headers are whole, decoded (the pixel sample)
        self.decode_failures = 0  # … whose decode failed
        self.records = RecordSpool() if keep_records else None
        # the rules with where their counts go, looked up once (add runs once a file)
        self._traits = [(name, rule) for name, (_, rule) in TRAITS.items()]
        self._categories = [(self.categories[name], rule) for name, rule in CATEGORIES.items()]
        self._header_numbers = [
            (self._numbers[n].append, rule) for n, (_, rule) in NUMBERS.items() if n not in PIXEL_NUMBERS
        ]
        self._pixel_numbers = [
            (self._numbers[n].append, rule) for n, (_, rule) in NUMBERS.items() if n in PIXEL_NUMBERS
        ]

    def add(self, record: Record) -> None:
        self.files += 1
        traits = self.traits
        for name, rule in self._traits:
            if rule(record):
                traits[name] += 1
        for counter, category in self._categories:
            value = category(record)
            if value is not None:
                counter[value] += 1
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
