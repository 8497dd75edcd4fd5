"""Markdown for a pull-request comment or ``$GITHUB_STEP_SUMMARY``, rendered from ``Report.to_dict()``.

Every piece of user-controlled text (file names, pipeline references, exception messages) goes
through :func:`md`, which escapes HTML and the Markdown characters that could break a table or
inject markup: GitHub renders inline HTML in comments. The finished page has its control
characters written as visible escapes (:func:`skewcheck.safe_text.visible_page`), as the terminal
report does: ``cat report.md`` in a CI log runs no escape sequence from a file name.
"""

from __future__ import annotations

import html
import re
from typing import Any

from skewcheck.report.common import (
    after_fixes_text,
    class_rows,
    divergence_lines,
    engine_text,
    error_counts,
    evidence_text,
    facts,
    headline,
    heads_text,
    impact_text,
    location_text,
    num,
    pct,
    sample_text,
    to_pass,
    to_pass_label,
    worst_image_cells,
)
from skewcheck.safe_text import visible_page

FINDINGS_SHOWN = 30
CLASSES_SHOWN = 10
WORST_SHOWN = 5
_ICON = {"pass": "✅", "fail": "❌", "error": "⚠️"}
_SEVERITY = {"critical": "🔴 critical", "major": "🟠 major", "minor": "🟡 minor", "info": "⚪ info"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(text: object) -> str:
    """Plain text, safe in a Markdown paragraph or table cell: no HTML, no markup, one line."""
    escaped = html.escape(" ".join(str(text).split()), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", escaped)


def render_markdown(data: dict[str, Any]) -> str:
    s = data["summary"]
    lines = [
        f"## {_ICON[data['verdict']]} skewcheck: {data['verdict'].upper()}",
        "",
        f"**{md(headline(data))}** · " + " · ".join(md(f) for f in facts(s)),
        "",
        _pipelines(data),
        "",
    ]
    heads = heads_text(s)
    lines += [f"<sub>{md(heads)}</sub>", ""] if heads else []
    lines += [line for d in divergence_lines(data.get("divergence")) for line in (md(d), "")]
    passing = to_pass(data)
    if passing:
        lines += [f"> **{to_pass_label(data).capitalize()}:** " + " · ".join(md(p) for p in passing), ""]
    lines += _findings(data["findings"], s)
    lines += _accuracy(s)
    lines += _confidence(s)
    if data.get("probe_matrix"):
        lines += _probe_matrix(data["probe_matrix"])
    if data.get("worst_images"):
        lines += _worst(data["worst_images"][:WORST_SHOWN])
    engine, sampled = engine_text(s), sample_text(s)
    lines += [" · ".join(error_counts(s)), ""] + ([f"> **Engine:** {md(engine)}", ""] if engine else [])
    lines += [f"> **Sample:** {md(sampled)}", ""] if sampled else []
    lines += [f"<sub>skewcheck {md(data.get('skewcheck_version', ''))} · {md(data['schema'])}</sub>", ""]
    return visible_page("\n".join(lines))


def _pipelines(data: dict[str, Any]) -> str:
    model = data.get("model") or {}
    p = data["pipelines"]
    return (
        f"Model: {md(model.get('path'))} ({md(model.get('format'))}) · "
        f"train: {md(p['train']['ref'])} · serve: {md(p['serve']['ref'])}"
    )


def _findings(findings: list[dict[str, Any]], summary: dict[str, Any]) -> list[str]:
    if not findings:
        return ["No finding: the two pipelines agree on every compared image.", ""]
    out = [
        "### Findings, most important first",
        "",
        "| # | severity | kind | side | images | flips | what and why | fix |",
        "|---:|---|---|---|---:|---:|---|---|",
    ]
    for i, f in enumerate(findings[:FINDINGS_SHOWN], 1):
        what = md(f["explanation"])
        if f["evidence"]:
            what += f"<br>evidence: {md(evidence_text(f['evidence']))}"
        where = location_text(f)
        if where:
            what += f"<br>where: {md(where)}"
        what += f"<br>{md(impact_text(f, summary))}"
        if f.get("traffic"):
            what += f"<br>traffic: {md(f['traffic']['sentence'])}"
        if f.get("examples"):
            what += "<br>e.g. " + ", ".join(md(e) for e in f["examples"][:3])
        out.append(
            f"| {i} | {_SEVERITY[f['severity']]} | {md(f['kind'])} | {md(f['side'] or '-')} | "
            f"{f['images']} | {f['flips']} | {what} | {md(f['fix'])} |"
        )
    if len(findings) > FINDINGS_SHOWN:
        out.append(f"\n… and {len(findings) - FINDINGS_SHOWN} more findings in the JSON report.")
    residual = after_fixes_text(summary)
    if residual:
        out += ["", md(residual.capitalize()) + "."]
    return out + [""]


def _accuracy(s: dict[str, Any]) -> list[str]:
    acc = s.get("accuracy")
    if not s.get("predicted") and not acc:
        return []
    out = ["### Accuracy and agreement", "", "| | train | serve | Δ |", "|---|---:|---:|---:|"]
    if s.get("top1_agreement") is not None:
        out.append(f"| top-1 agreement | | {pct(s['top1_agreement'])} | {s['flips']} flips |")
    if not acc:
        return out + ["", "No labels given (--labels CSV): accuracy not measured.", ""]
    delta = None if acc["train"] is None or acc["serve"] is None else acc["serve"] - acc["train"]
    out.append(f"| **accuracy, all** | {pct(acc['train'])} | {pct(acc['serve'])} | {_signed(delta)} |")
    rows = class_rows(s)
    for r in rows[:CLASSES_SHOWN]:
        out.append(
            f"| class {md(r['name'])} ({r['images']} images) | {pct(r['train'])} | {pct(r['serve'])} "
            f"| {_signed(r['delta'])} |"
        )
    if len(rows) > CLASSES_SHOWN:
        out.append(f"| … {len(rows) - CLASSES_SHOWN} more classes (smaller drops) | | | |")
    return out + [""]


def _signed(delta: float | None) -> str:
    return "n/a" if delta is None else f"{100 * delta:+.1f} pts"


def _confidence(s: dict[str, Any]) -> list[str]:
    conf = s.get("confidence")
    if not conf:
        return []
    bins = conf["bins"]
    out = ["### Top-1 confidence", "", "| confidence | train | serve |", "|---|---:|---:|"]
    for i in range(len(bins) - 1):
        if conf["train"][i] or conf["serve"][i]:
            out.append(f"| {bins[i]:.1f}–{bins[i + 1]:.1f} | {conf['train'][i]} | {conf['serve'][i]} |")
    wrong = s.get("confident_wrong")
    if wrong:
        out += [
            "",
            (
                f"**Confidently wrong** (confidence ≥ {wrong['threshold']:g}, wrong label): "
                f"serve {wrong['serve']}, train {wrong['train']}. Confidence is no proof of correctness."
            ),
        ]
        for e in wrong["examples"]:
            out.append(
                f"- {md(e['path'])}: label {e['label']}, serve predicted {e['predicted']} "
                f"with confidence {num(e['confidence'], '.3f')}"
            )
    return out + [""]


def _probe_matrix(matrix: dict[str, Any]) -> list[str]:
    out = [
        "### Probe kind × outcome",
        "",
        "| probe kind | expect | images | train | serve | differ |",
        "|---|---|---:|---|---|---:|",
    ]
    for kind, row in matrix.items():
        out.append(
            f"| {md(kind)} | {md(row['expect'])} | {row['images']} | {_statuses(row['train'])} | "
            f"{_statuses(row['serve'])} | {row['differ']} |"
        )
    return out + [""]


def _statuses(counts: dict[str, int]) -> str:
    return ", ".join(f"{md(k)} {v}" for k, v in sorted(counts.items()))


def _worst(worst: list[dict[str, Any]]) -> list[str]:
    out = [
        "### Worst images",
        "",
        "| image | findings | top-1 flip | max \\|Δp\\| | mean \\|Δ tensor\\| |",
        "|---|---|---|---:|---:|",
    ]
    for w in worst:
        findings, flip, dp, dt = worst_image_cells(w)
        out.append(f"| {md(w['path'])} | {md(findings)} | {flip} | {dp} | {dt} |")
    return out + [""]


__all__ = ["md", "render_markdown"]
