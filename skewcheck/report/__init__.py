"""Reporters. Every format renders from ``Report.to_dict()``, the one plain-data boundary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from skewcheck.report.destination import EXTENSIONS, report_format, write_report_file

if TYPE_CHECKING:  # not imported here: profile and augment write through report.destination alone
    from skewcheck.report.model import Report

# format → how a Report becomes that format's text (each one a renderer of the plain data)
RENDERERS: dict[str, Callable[[Report], str]] = {
    "json": lambda report: report.to_json(),
    "markdown": lambda report: report.to_markdown(),
    "junit": lambda report: report.to_junit(),
    "html": lambda report: report.to_html(),
    "sarif": lambda report: report.to_sarif(),
}
# file extension → format, for --report PATH
FORMATS = {**EXTENSIONS, ".sarif": "sarif"}


def register_report_format(name: str, render: Callable[[Report], str], extensions: tuple[str, ...] = ()) -> None:
    """Add a report format: ``render`` turns a Report into text (read ``report.to_dict()``, the
    plain-data boundary every format renders from); ``extensions`` (".csv") pick it for --report."""
    if name in RENDERERS:
        raise ValueError(f"report format {name!r} is registered already")
    taken = [e for e in extensions if e.lower() in FORMATS]
    if taken:
        raise ValueError(f"extension(s) {', '.join(taken)} already name a report format")
    RENDERERS[name] = render
    FORMATS.update({e.lower(): name for e in extensions})


def format_for(path: Path, explicit: str | None = None) -> str:
    """The format of a report file: from its extension; ``explicit`` (--format) when that does not tell."""
    return report_format(path, RENDERERS, explicit, FORMATS)


def render_report(report: Report, fmt: str) -> str:
    return RENDERERS[fmt](report)


def write_report(report: Report, path: Path, fmt: str | None = None) -> None:
    """Render and write one report (skewcheck/report/destination.py says where and how). JSON is
    streamed one image record at a time; the other formats are rendered first."""
    fmt = format_for(path, fmt)
    text = None if fmt == "json" else render_report(report, fmt)
    write_report_file(path, report.write_json if text is None else lambda out: out.write(text))
