"""Reporters. Every format renders from ``Report.to_dict()``, the one plain-data boundary."""

from __future__ import annotations

from pathlib import Path

from skewcheck.errors import UsageError
from skewcheck.report.model import Report

FORMATS = {".json": "json"}


def format_for(path: Path, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in FORMATS.values():
            raise UsageError(f"unknown report format {explicit!r} (known: {', '.join(sorted(set(FORMATS.values())))})")
        return explicit
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"cannot tell the report format of {path} from its extension (known: {', '.join(FORMATS)})")
    return fmt


def write_report(report: Report, path: Path, fmt: str | None = None) -> None:
    chosen = format_for(path, fmt)
    if chosen == "json":
        text = report.to_json()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write report {path}: {exc.strerror or exc}") from None


__all__ = ["Report", "write_report", "format_for"]
