"""The profile as one self-contained HTML page (the Markdown report's tables, escaped)."""

from __future__ import annotations

import html
from typing import Any

from skewcheck.profile import rows

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:72em}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}"
    ".warning{color:#a40}"
)


def _table(header: list[str], body: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    lines = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def render_html(data: dict[str, Any]) -> str:
    has_ref = bool(data.get("reference"))
    flags = "".join(f'<li class="{html.escape(f["level"])}">{html.escape(f["text"])}</li>' for f in data["flags"])
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>skewcheck profile</title>",
        f"<style>{STYLE}</style></head><body><h1>skewcheck profile</h1>",
        f"<p>{html.escape(rows.headline(data))}</p>",
        f"<ul>{flags}</ul>" if flags else "<p>No flags.</p>",
        "<h2>Traits</h2>",
        _table(rows.TRAIT_HEADER + (rows.TRAIT_REFERENCE_HEADER if has_ref else []), rows.trait_rows(data)),
        "<h2>Categories</h2>",
        _table(["category", "values"] + (["values (reference)"] if has_ref else []), rows.category_rows(data)),
        "<h2>Numbers</h2>",
        _table(rows.NUMBER_HEADER + (rows.NUMBER_REFERENCE_HEADER if has_ref else []), rows.number_rows(data)),
    ]
    if data["failures"]["count"]:
        parts += ["<h2>Decode failures</h2>", _table(["file", "status", "reason"], rows.failure_rows(data))]
    parts.append(f"<p><small>{html.escape(data['schema'])}</small></p></body></html>")
    return "\n".join(parts) + "\n"
