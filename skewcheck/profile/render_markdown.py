"""The profile as Markdown (a PR comment, a CI job summary), from ``Profile.to_dict()``."""

from __future__ import annotations

from typing import Any

from skewcheck.profile import rows


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "\\`")


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in body]
    return out + [""]


def render_markdown(data: dict[str, Any]) -> str:
    has_ref = bool(data.get("reference"))
    out = ["## skewcheck profile", "", _cell(rows.headline(data)), ""]
    if data["flags"]:
        out += [f"- {'**warning**' if f['level'] == 'warning' else 'info'}: {_cell(f['text'])}" for f in data["flags"]]
    else:
        out.append("No flags.")
    out += ["", "### Traits", ""]
    out += _table(rows.TRAIT_HEADER + (rows.TRAIT_REFERENCE_HEADER if has_ref else []), rows.trait_rows(data))
    out += ["### Categories", ""]
    out += _table(["category", "values"] + (["values (reference)"] if has_ref else []), rows.category_rows(data))
    out += ["### Numbers", ""]
    out += _table(rows.NUMBER_HEADER + (rows.NUMBER_REFERENCE_HEADER if has_ref else []), rows.number_rows(data))
    if data["failures"]["count"]:
        out += ["### Decode failures", ""]
        out += _table(["file", "status", "reason"], rows.failure_rows(data))
        more = rows.more_failures(data)
        if more:
            out += [f"… and {more:,} more (all of them in the JSON report)", ""]
    out.append(f"<sub>{data['schema']} · skewcheck {data['skewcheck_version']}</sub>")
    return "\n".join(out) + "\n"
