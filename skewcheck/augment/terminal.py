"""The augmentation report on the terminal (rich), from ``to_dict()`` data."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from skewcheck.augment.wording import FINDING_HEADERS, RANGE_HEADERS, finding_cells, headline, range_cells, setup_line
from skewcheck.safe_text import visible_data

_STYLE = {"critical": "bold red", "major": "red", "minor": "yellow", "info": "dim"}


def _table(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]], styles: list[str | None]) -> Table:
    table = Table(title=title, title_justify="left")
    for h in headers:
        table.add_column(h, overflow="fold")
    for row, style in zip(rows, styles, strict=True):
        table.add_row(*(Text(c) for c in row), style=style)
    return table


def render_terminal(data: dict[str, Any], console: Console) -> None:
    data = visible_data(data)
    console.print(Text(headline(data), style="bold red" if data["exit_code"] else "bold green"))
    console.print(Text(setup_line(data)))
    findings = data["findings"]
    if findings:
        rows = [finding_cells(f)[:-1] for f in findings]  # examples: in the file reports
        console.print(_table("Findings", FINDING_HEADERS[:-1], rows, [_STYLE.get(f["severity"]) for f in findings]))
    else:
        console.print(Text("No finding."))
    rows = [range_cells(t, data["summary"]) for t in data["transforms"]]
    console.print(_table("Safe range per transform", RANGE_HEADERS, rows, [None] * len(rows)))
