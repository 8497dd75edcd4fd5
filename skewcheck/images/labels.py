"""``--labels CSV`` (header ``file,label``) and ``--class-names FILE`` (one name per line)."""

from __future__ import annotations

import csv
import difflib
from pathlib import Path

from skewcheck.errors import UsageError


def read_class_names(path: Path) -> list[str]:
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise UsageError(f"cannot read --class-names {path}: {exc.strerror or exc}") from None
    if not names:
        raise UsageError(f"--class-names {path} is empty")
    return names


def read_labels(path: Path, class_names: list[str] | None = None, names_source: str = "--class-names") -> dict[str, int]:
    """Map each file (relative to --images, posix) to its integer class index. ``names_source``
    says where ``class_names`` came from, for the error message (e.g. ``--class-names names.txt``)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read --labels {path}: {exc.strerror or exc}") from None
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or not {"file", "label"} <= set(rows[0].keys()):
        raise UsageError(f"--labels {path}: expected a CSV with header 'file,label'")
    index = {name: i for i, name in enumerate(class_names or [])}
    labels: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        file, raw = (row.get("file") or "").strip(), (row.get("label") or "").strip()
        if not file:
            continue
        if raw.lstrip("-").isdigit():
            labels[Path(file).as_posix()] = int(raw)
        elif raw in index:
            labels[Path(file).as_posix()] = index[raw]
        else:
            raise UsageError(f"--labels {path}:{line}: label {raw!r} is not a class index"
                             f"{_unknown_name_hint(raw, class_names, names_source)}")  # fmt: skip
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
