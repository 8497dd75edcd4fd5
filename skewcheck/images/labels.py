"""``--labels CSV`` (header ``file,label``) and ``--class-names FILE`` (one name per line).

Both are user files: whatever they hold, reading them gives a value or a one-line
:class:`~skewcheck.errors.UsageError` (not UTF-8, not CSV, a label that is neither an index nor a
class name...). Labels are ASCII digit class indices (``-?[0-9]+``) or class names.
"""

from __future__ import annotations

import csv
import difflib
import re
from pathlib import Path

from skewcheck.errors import UsageError
from skewcheck.images.source import ImageFile

_INDEX = re.compile(r"-?[0-9]{1,18}")  # ASCII digits only: '²'.isdigit() is True, int('²') fails


def _read_text(path: ImageFile, what: str, encoding: str) -> str:
    try:
        return path.read_bytes().decode(encoding)  # a local file, or an object under a URI
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {what} {path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None


def read_class_names(path: Path) -> list[str]:
    text = _read_text(path, "--class-names", "utf-8-sig")
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise UsageError(f"--class-names {path} is empty")
    return names


def read_labels(
    path: ImageFile, class_names: list[str] | None = None, names_source: str = "--class-names"
) -> dict[str, int]:
    """Map each file (relative to --images, posix) to its integer class index. ``names_source``
    says where ``class_names`` came from, for the error message (e.g. ``--class-names names.txt``)."""
    text = _read_text(path, "--labels", "utf-8-sig")
    try:
        rows = list(csv.DictReader(text.splitlines()))
    except csv.Error as exc:
        raise UsageError(f"--labels {path}: not a readable CSV ({exc})") from None
    if not rows or not {"file", "label"} <= set(rows[0].keys()):
        raise UsageError(f"--labels {path}: expected a CSV with header 'file,label'")
    index = {name: i for i, name in enumerate(class_names or [])}
    labels: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        file, raw = _cell(row.get("file")), _cell(row.get("label"))
        if not file:
            continue
        if _INDEX.fullmatch(raw):
            labels[Path(file).as_posix()] = int(raw)
        elif raw in index:
            labels[Path(file).as_posix()] = index[raw]
        else:
            shown = raw if len(raw) <= 60 else raw[:59] + "…"
            raise UsageError(
                f"--labels {path}:{line}: label {shown!r} is not a class index"
                f"{_unknown_name_hint(raw, class_names, names_source)}"
            )
    return labels


def _unknown_name_hint(raw: str, class_names: list[str] | None, names_source: str) -> str:
    """Where the names came from, and the nearest ones (a typo is the usual cause)."""
    if not class_names:
        return " (pass --class-names to use class names)"
    close = difflib.get_close_matches(raw, class_names, n=3, cutoff=0.6)
    if close:
        return f" nor a class name in {names_source}; did you mean {' or '.join(repr(c) for c in close)}?"
    shown = ", ".join(repr(c) for c in class_names[:5]) + (", …" if len(class_names) > 5 else "")
    return f" nor one of the {len(class_names)} class names in {names_source} ({shown})"


def _cell(value: object) -> str:
    """A CSV cell as text; an overlong row gives a list (DictReader's restkey), taken as absent."""
    return value.strip() if isinstance(value, str) else ""
