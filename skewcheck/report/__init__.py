"""Reporters. Every format renders from ``Report.to_dict()``, the one plain-data boundary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from skewcheck.errors import UsageError
from skewcheck.report.model import Report

FORMATS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".xml": "junit", ".html": "html", ".htm": "html"}

# format → how a Report becomes that format's text (each one a renderer of the plain data)
RENDERERS: dict[str, Callable[[Report], str]] = {
    "json": Report.to_json,
    "markdown": Report.to_markdown,
    "junit": Report.to_junit,
    "html": Report.to_html,
}


def format_for(path: Path, explicit: str | None = None) -> str:
    """The format of a report file: from its extension; ``explicit`` (--format) when that does not tell."""
    if explicit is not None and explicit not in RENDERERS:
        raise UsageError(f"unknown report format {explicit!r} (known: {', '.join(sorted(RENDERERS))})")
    fmt = FORMATS.get(path.suffix.lower()) or explicit
    if fmt is None:
        raise UsageError(
            f"cannot tell the report format of {path} from its extension (known: {', '.join(FORMATS)}; "
            f"or pass --format {'|'.join(sorted(RENDERERS))})"
        )
    return fmt


def render_report(report: Report, fmt: str) -> str:
    return RENDERERS[fmt](report)


def write_report(report: Report, path: Path, fmt: str | None = None) -> None:
    fmt = format_for(path, fmt)
    text = None if fmt == "json" else render_report(report, fmt)  # JSON is streamed: one record at a time
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", errors="backslashreplace") as out:  # undecodable file names
            if text is None:
                report.write_json(out)
            else:
                out.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write report {path}: {exc.strerror or exc}") from None


__all__ = ["FORMATS", "RENDERERS", "Report", "format_for", "render_report", "write_report"]
