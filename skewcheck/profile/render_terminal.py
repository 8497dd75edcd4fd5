"""The profile in the terminal (rich): headline, flags, traits, categories, numbers, failures."""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from skewcheck.profile import rows
from skewcheck.safe_text import visible

NON_TERMINAL_WIDTH = 200  # a CI log or a pipe without COLUMNS: as wide as compare's report


def console_for() -> Console:
    """The terminal's own width; anything else gets ``COLUMNS`` when set, else a wide layout."""
    console = Console(soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(soft_wrap=False, width=NON_TERMINAL_WIDTH)
    return console


def _table(header: list[str], body: list[list[str]], title: str) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for i, name in enumerate(header):
        table.add_column(Text(name), justify="right" if 0 < i and not name.startswith(("values", "reason")) else "left")
    for row in body:
        table.add_row(*(Text(visible(cell)) for cell in row))  # file names and profile names are never markup
    return table


def render(data: dict[str, Any], console: Console) -> None:
    has_ref = bool(data.get("reference"))
    console.print(Text(visible(rows.headline(data))))
    for flag in data["flags"]:
        mark = Text("! " if flag["level"] == "warning" else "· ", style="yellow" if flag["level"] == "warning" else "")
        console.print(mark + Text(visible(flag["text"])))
    if not data["flags"]:
        console.print("no flags")
    header = rows.TRAIT_HEADER + (rows.TRAIT_REFERENCE_HEADER if has_ref else [])
    console.print(
        _table(header, rows.trait_rows(data), "Traits (share of every file, 95 % interval of the difference)")
    )
    console.print(
        _table(
            ["category", "values"] + (["values (reference)"] if has_ref else []), rows.category_rows(data), "Categories"
        )
    )
    header = rows.NUMBER_HEADER + (rows.NUMBER_REFERENCE_HEADER if has_ref else [])
    console.print(_table(header, rows.number_rows(data), "Numbers"))
    if data["failures"]["count"]:
        console.print(_table(["file", "status", "reason"], rows.failure_rows(data), "Decode failures"))
        more = rows.more_failures(data)
        if more:
            console.print(f"… and {more:,} more (all of them in the JSON report)")
