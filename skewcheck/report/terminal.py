"""The rich terminal report, rendered from ``Report.to_dict()``."""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from skewcheck.report.common import (
    after_fixes_text,
    divergence_lines,
    engine_text,
    error_counts,
    evidence_text,
    headline,
    heads_text,
    impact_text,
    pct,
    sample_text,
    to_pass,
    to_pass_label,
    worst_image_cells,
)
from skewcheck.safe_text import visible_data

_SEVERITY_STYLE = {"critical": "bold red", "major": "red", "minor": "yellow", "info": "dim"}
WORST_SHOWN = 5
NON_TERMINAL_WIDTH = 200


def console_for(stdout_is_terminal: bool | None = None) -> Console:
    """The console the report prints on. A terminal gets its own width; anything else (a CI log, a
    pipe) gets ``COLUMNS`` when set, else a wide layout: nobody resizes a log to read a cut column."""
    console = Console(soft_wrap=False)
    terminal = console.is_terminal if stdout_is_terminal is None else stdout_is_terminal
    if not terminal and not os.environ.get("COLUMNS"):
        console = Console(soft_wrap=False, width=NON_TERMINAL_WIDTH)
    return console


def _column(table: Table, header: str, **kwargs: Any) -> None:
    """Cells fold onto more lines when the table is narrow: never cut with an ellipsis."""
    table.add_column(header, overflow="fold", **kwargs)


def _row(table: Table, *cells: str | Text, style: str | None = None) -> None:
    """A table row whose strings are plain text: a cell is never parsed as rich markup."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells), style=style)


def render(data: dict[str, Any], console: Console) -> None:
    """Every string of ``data`` reaches the terminal as plain text with control characters escaped."""
    data = visible_data(data)
    console.print(_verdict(data))
    console.print(_pipelines(data))
    heads = heads_text(data["summary"])
    if heads:
        console.print(Text(heads, style="dim"))
    divergence = _divergence(data["divergence"]) if data.get("divergence") else None
    if divergence:
        console.print(divergence)
    passing = to_pass(data)
    if passing:
        console.print(Text(f"{to_pass_label(data)}: " + " · ".join(passing), style="yellow"))
    if data["findings"]:
        console.print(_findings_table(data["findings"], data["summary"], expand=console.is_terminal))
        residual = after_fixes_text(data["summary"])
        if residual:
            console.print(Text(residual, style="green"))
    else:
        console.print(Text("No finding: the two pipelines agree on every compared image.", style="green"))
    accuracy = data["summary"].get("accuracy")
    if accuracy:
        console.print(_accuracy_table(data["summary"]))
    if data.get("probe_matrix"):
        console.print(_probe_table(data["probe_matrix"]))
    if data.get("worst_images"):
        console.print(_worst_table(data["worst_images"][:WORST_SHOWN]))
    console.print(_counts(data["summary"]))
    sampled = sample_text(data["summary"])
    if sampled:  # --sample: the rates are estimates, with their intervals
        console.print(Text(f"sample: {sampled}", style="cyan"))
    engine = engine_text(data["summary"])
    if engine:  # --engine ray: never a silent retry or loss
        console.print(Text(engine, style="yellow"))


def _verdict(data: dict[str, Any]) -> Text:
    summary, verdict = data["summary"], data["verdict"]
    style = {"pass": "bold green", "fail": "bold red", "error": "bold magenta"}[verdict]
    text = Text(verdict.upper(), style=style)
    if verdict == "error":
        text.append(f"  the audit could not run: {data.get('audit_error')}")
        return text
    text.append(f"  {headline(data)}")  # the findings at or above the gate, and the flip-rate gate
    text.append(f" · {summary['images']} images, {summary['compared']} compared")
    if summary.get("top1_agreement") is not None:
        text.append(f" · top-1 agreement {pct(summary['top1_agreement'])}")
    accuracy = summary.get("accuracy")
    if accuracy:
        text.append(f" · accuracy train {pct(accuracy['train'])} → serve {pct(accuracy['serve'])}")
    return text


def _pipelines(data: dict[str, Any]) -> Text:
    model = data.get("model") or {}
    p = data["pipelines"]
    return Text(
        f"model {model.get('path')} ({model.get('format')})  train {p['train']['ref']}  serve {p['serve']['ref']}",
        style="dim",
    )


def _divergence(d: dict[str, Any]) -> Text:
    """Where two declarative pipelines first part ways: the Markdown report's lines, styled."""
    text = Text()
    for line in divergence_lines(d):
        if text:
            text.append("\n")
        counts = line.rfind(f" ({d.get('images')} of {d.get('sampled')} sampled images")
        if line.startswith("First divergent step") and counts > 0:
            text.append(line[:counts], style="bold")
            text.append(line[counts:], style="dim")
        else:
            text.append(line, style="dim")
    return text


def _findings_table(findings: list[dict[str, Any]], summary: dict[str, Any], expand: bool = True) -> Table:
    """Full terminal width on a terminal; as wide as its text (up to the console's width) in a log."""
    table = Table(title="Findings, most important first", title_justify="left", show_lines=True, expand=expand)
    _column(table, "#", justify="right", no_wrap=True)
    _column(table, "severity", no_wrap=True)
    _column(table, "kind", no_wrap=True)
    _column(table, "side", no_wrap=True)
    _column(table, "images", justify="right", no_wrap=True)
    _column(table, "flips", justify="right", no_wrap=True)
    _column(table, "explanation and fix", ratio=1)
    for i, f in enumerate(findings, 1):
        body = Text(f["explanation"])
        if f["evidence"]:
            body.append(f"\nevidence: {evidence_text(f['evidence'])}", style="dim")
        if f.get("probe_expectation"):
            body.append(f"\nprobes: {f['probe_expectation']}", style="magenta")
        where = f.get("location")
        if where:  # the other formats' sentence, one source line per row: the column is narrow
            traced = f" (traced on {where['image']})" if where.get("image") else ""
            body.append(f"\nwhere: first difference here{traced}", style="magenta")
            for side in ("train", "serve"):
                at = where[side]
                body.append(f"\n  {side} {at['file']}:{at['line']}\n    {at['code']}", style="magenta")
        body.append(f"\nfix: {f['fix']}", style="cyan")
        if f.get("traffic"):
            body.append(f"\ntraffic: {f['traffic']['sentence']}", style="yellow")
        body.append(
            f"\n{impact_text(f, summary)}", style="green" if (f.get("impact") or {}).get("flips_recovered") else "dim"
        )
        if f.get("absorbed"):
            body.append(
                "\nalso folded in: " + ", ".join(f"{a['kind']} on {a['images']} images" for a in f["absorbed"]),
                style="dim",
            )
        _row(
            table,
            str(i),
            Text(f["severity"], style=_SEVERITY_STYLE[f["severity"]]),
            f["kind"],
            f["side"] or "-",
            str(f["images"]),
            str(f["flips"]),
            body,
        )
    return table


def _accuracy_table(summary: dict[str, Any]) -> Group:
    acc = summary["accuracy"]
    table = Table(title="Accuracy under each pipeline", title_justify="left")
    for col in ("", "train", "serve", "Δ"):
        _column(table, col, justify="right" if col else "left")
    delta = None if acc["train"] is None or acc["serve"] is None else acc["serve"] - acc["train"]
    _row(table, "all", pct(acc["train"]), pct(acc["serve"]), pct(delta))
    rows = sorted(
        (r for r in summary.get("accuracy_per_class", []) if r["train"] is not None and r["serve"] is not None),
        key=lambda r: r["serve"] - r["train"],
    )
    for r in rows[:5]:
        _row(
            table, f"class {r['name']} ({r['images']})", pct(r["train"]), pct(r["serve"]), pct(r["serve"] - r["train"])
        )
    return Group(table)


def _probe_table(matrix: dict[str, Any]) -> Table:
    """One row per probe category (the JSON keeps one per kind): outcomes and expectation breaks."""
    rows: dict[str, dict[str, Any]] = {}
    for kind, row in matrix.items():
        cat = rows.setdefault(
            row.get("category") or kind,
            {"images": 0, "train": {}, "serve": {}, "differ": 0, "deviates": {"train": 0, "serve": 0}},
        )
        cat["images"] += row["images"]
        cat["differ"] += row["differ"]
        for side in ("train", "serve"):
            for status, n in row[side].items():
                cat[side][status] = cat[side].get(status, 0) + n
            cat["deviates"][side] += row.get("deviates", {}).get(side, 0)
    table = Table(
        title="Probe category × outcome (deviates = breaks the probe's expected decode)", title_justify="left"
    )
    for col in ("category", "images", "train", "serve", "differ", "deviates train", "deviates serve"):
        _column(table, col, justify="left" if col in ("category", "train", "serve") else "right")
    for name, cat in rows.items():
        style = "red" if cat["differ"] or any(cat["deviates"].values()) else None
        _row(
            table,
            name,
            str(cat["images"]),
            _statuses(cat["train"]),
            _statuses(cat["serve"]),
            str(cat["differ"]),
            str(cat["deviates"]["train"]),
            str(cat["deviates"]["serve"]),
            style=style,
        )
    return table


def _statuses(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _worst_table(worst: list[dict[str, Any]]) -> Table:
    table = Table(title="Worst images", title_justify="left")
    for col in ("image", "findings", "top-1 flip", "max |Δp|", "mean |Δ tensor|"):
        _column(table, col)
    for w in worst:
        _row(table, w["path"], *worst_image_cells(w))
    return table


def _counts(summary: dict[str, Any]) -> Text:
    parts = error_counts(summary)
    missing = summary.get("missing") or {}
    if any(missing.values()):  # images a snapshot or a tensors: folder has no tensor for
        parts.append(f"missing: train {missing.get('train', 0)}, serve {missing.get('serve', 0)}")
    return Text(" · ".join(parts), style="dim")
