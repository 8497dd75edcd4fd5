"""The augmentation report as Markdown (a PR comment or a CI job summary), from ``to_dict()`` data."""

from __future__ import annotations

from typing import Any

from skewcheck.augment.wording import (
    FINDING_HEADERS,
    RANGE_HEADERS,
    finding_cells,
    headline,
    per_class_lines,
    range_cells,
    setup_line,
)
from skewcheck.safe_text import visible_page


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def render_markdown(data: dict[str, Any]) -> str:
    lines = [f"## skewcheck augment: {data['verdict'].upper()}", "", headline(data), "", setup_line(data), ""]
    lines += [
        f"Model `{data['model']['path']}`, train `{data['train']['ref']}`, augment `{data['augment']['ref']}`",
        "",
    ]
    if data["findings"]:
        lines += ["### Findings", ""]
        lines += _table(FINDING_HEADERS, [finding_cells(f) for f in data["findings"]])
        lines.append("")
    else:
        lines += ["No finding.", ""]
    lines += ["### Safe range per transform", ""]
    lines += _table(RANGE_HEADERS, [range_cells(t, data["summary"]) for t in data["transforms"]])
    lines.append("")
    classes = [line for t in data["transforms"] for line in per_class_lines(t, data.get("class_names"))]
    if classes:
        lines += ["<details><summary>Per class</summary>", ""] + [f"- {c}" for c in classes] + ["", "</details>", ""]
    return visible_page("\n".join(lines))
