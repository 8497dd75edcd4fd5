"""One self-contained HTML file, rendered from ``Report.to_dict(thumbnails=True)``.

No external fetch: styles and the sorting script are inline, images are ``data:`` URIs, and a
Content-Security-Policy forbids anything else. The page is the Jinja2 template
``templates/report.html.j2``, with autoescaping on: every value from the data is HTML-escaped
(quotes included) where it is written, whatever its origin, with no call to remember. This module
only prepares plain values and texts (the wording comes from :mod:`skewcheck.report.common`); the
only markup not escaped is our own constants, the stylesheet, the script and the CSP.
"""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from skewcheck.report.common import (
    after_fixes_text,
    class_rows,
    divergence_lines,
    error_counts,
    evidence_text,
    failing_findings,
    headline,
    impact_text,
    location_text,
    num,
    pct,
    side_status,
    to_pass,
    to_pass_label,
    worst_image_cells,
)
from skewcheck.report.html_assets import CSP, CSS, SCRIPT
from skewcheck.safe_text import visible_page

WORST_SHOWN = 10
TEMPLATE = "report.html.j2"
_SEVERITY_ORDER = {"info": 0, "minor": 1, "major": 2, "critical": 3}  # the findings table sorts on it


@functools.cache
def environment() -> Environment:
    """The one template environment: autoescape on, and a missing key is an error, not an empty string."""
    env = Environment(
        loader=PackageLoader("skewcheck.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    # our own constants, the only text the page writes unescaped (the CSP pins the script by its hash)
    env.globals.update(CSS=Markup(CSS), SCRIPT=Markup(SCRIPT), CSP=Markup(CSP))
    return env


def render_html(data: dict[str, Any]) -> str:
    """The page, its data's control characters written as visible escapes (as the terminal's)."""
    return visible_page(environment().get_template(TEMPLATE).render(page_context(data)))


def page_context(data: dict[str, Any]) -> dict[str, Any]:
    """What the template reads: plain values and texts only, never HTML."""
    s = data["summary"]
    model = data.get("model") or {}
    p = data["pipelines"]
    residual = after_fixes_text(s)
    items = to_pass(data)
    return {
        "verdict": str(data["verdict"]),
        "headline": headline(data),
        "model_path": str(model.get("path")),
        "model_format": str(model.get("format")),
        "train_ref": str(p["train"]["ref"]),
        "serve_ref": str(p["serve"]["ref"]),
        "tiles": _tiles(data),
        "divergence": divergence_lines(data.get("divergence")),
        "to_pass": {"label": to_pass_label(data).capitalize(), "codes": items} if items else None,
        "gate": str(data["gate"]),
        "findings": [_finding(i, f, s) for i, f in enumerate(data["findings"], 1)],
        "residual": f"{residual.capitalize()}." if residual else None,
        "accuracy": _accuracy(s),
        "confidence": _confidence(s),
        "probe_matrix": _probe_matrix(data.get("probe_matrix") or {}),
        "worst": [_worst(w) for w in (data.get("worst_images") or [])[:WORST_SHOWN]],
        "version": str(data.get("skewcheck_version", "")),
        "schema": str(data["schema"]),
        "error_counts": " · ".join(error_counts(s)),
    }


def _tiles(data: dict[str, Any]) -> list[dict[str, Any]]:
    s = data["summary"]
    failing = failing_findings(data)
    tiles = [
        (str(s["images"]), "images", False),
        (str(s["compared"]), "compared (both pipelines gave a tensor)", False),
        (str(len(failing)), f"findings at or above '{data['gate']}'", bool(failing)),
    ]
    if s.get("top1_agreement") is not None:
        tiles.append((pct(s["top1_agreement"]), f"top-1 agreement ({s['flips']} flips)", s["flips"] > 0))
    acc = s.get("accuracy")
    if acc and acc.get("train") is not None and acc.get("serve") is not None:
        tiles.append(
            (f"{pct(acc['train'])} → {pct(acc['serve'])}", "accuracy train → serve", acc["serve"] < acc["train"])
        )
    wrong = s.get("confident_wrong")
    if wrong:
        tiles.append(
            (str(wrong["serve"]), f"confidently wrong under serve (≥ {wrong['threshold']:g})", wrong["serve"] > 0)
        )
    return [{"n": n, "label": label, "bad": bad} for n, label, bad in tiles]


def _finding(number: int, f: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": number,
        "severity": str(f["severity"]),
        "severity_order": _SEVERITY_ORDER[f["severity"]],
        "kind": str(f["kind"]),
        "side": str(f["side"] or "-"),
        "images": f["images"],
        "flips": f["flips"],
        "explanation": str(f["explanation"]),
        "evidence": evidence_text(f["evidence"]) if f["evidence"] else None,
        "impact": impact_text(f, summary),
        "location": location_text(f),
        "fix": str(f["fix"]),
        "examples": [_example(e) for e in f.get("thumbnails") or []],
    }


def _example(e: dict[str, Any]) -> dict[str, Any]:
    diff = e.get("diff")
    diff_fig = (
        _figure(diff["png"], "|diff|", f"max |Δ| {num(diff['max_abs'], '.4g')}")
        if diff
        else _figure(None, "|diff|", "no aligned pair of tensors", missing="no diff")
    )
    return {
        "path": str(e["path"]),
        "flipped": bool(e.get("flipped")),
        "figures": [_side_figure(e["train"], "train"), _side_figure(e["serve"], "serve"), diff_fig],
    }


def _side_figure(side: dict[str, Any], name: str) -> dict[str, Any]:
    return _figure(side.get("png"), name, side_status(side), missing=str(side.get("status", "no tensor")))


def _figure(png: str | None, title: str, caption: str, missing: str = "no image") -> dict[str, Any]:
    """A thumbnail (base64 PNG, or what to say in its place) with its title and caption."""
    return {"png": str(png) if png else None, "title": title, "caption": caption, "missing": missing}


def _accuracy(s: dict[str, Any]) -> list[dict[str, Any]] | None:
    acc = s.get("accuracy")
    if not acc:
        return None
    delta = None if acc["train"] is None or acc["serve"] is None else acc["serve"] - acc["train"]
    rows = [_acc_row("all classes", s.get("labelled", {}).get("train"), acc["train"], acc["serve"], delta, strong=True)]
    rows += [_acc_row(f"class {r['name']}", r["images"], r["train"], r["serve"], r["delta"]) for r in class_rows(s)]
    return rows


def _acc_row(
    name: str, n: int | None, train: float | None, serve: float | None, delta: float | None, strong: bool = False
) -> dict[str, Any]:
    def cell(x: float | None, text: str) -> dict[str, str]:
        return {"sort": "" if x is None else str(x), "text": text}

    shown = "n/a" if delta is None else f"{100 * delta:+.1f}"
    return {
        "name": name,
        "strong": strong,
        "images": "" if n is None else str(n),
        "cells": [cell(train, pct(train)), cell(serve, pct(serve)), cell(delta, shown)],
    }


def _confidence(s: dict[str, Any]) -> dict[str, Any] | None:
    conf = s.get("confidence")
    if not conf:
        return None
    bins, peak = conf["bins"], max(max(conf["train"]), max(conf["serve"]), 1)
    used = [i for i in range(len(bins) - 1) if conf["train"][i] or conf["serve"][i]]
    rows = []
    for i in range(used[0], used[-1] + 1) if used else ():  # no empty rows before the first or after the last count
        bars = [
            {"side": side, "width": f"{200 * conf[side][i] / peak:.0f}", "count": conf[side][i]}
            for side in ("train", "serve")
        ]
        rows.append({"range": f"{bins[i]:.1f}–{bins[i + 1]:.1f}", "bars": bars})
    wrong = s.get("confident_wrong")
    callout = None
    if wrong:
        callout = {
            "serve": wrong["serve"],
            "train": wrong["train"],
            "threshold": f"{wrong['threshold']:g}",
            "neutral": not wrong["serve"],  # none under serve: a fact, not an alert
            "examples": [
                {
                    "path": str(e["path"]),
                    "label": str(e["label"]),
                    "predicted": str(e["predicted"]),
                    "confidence": num(e["confidence"], ".3f"),
                }
                for e in wrong["examples"]
            ],
        }
    return {"rows": rows, "wrong": callout}


def _probe_matrix(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "kind": str(kind),
            "expect": str(row["expect"]),
            "images": row["images"],
            "train": _statuses(row["train"]),
            "serve": _statuses(row["serve"]),
            "differ": row["differ"],
        }
        for kind, row in matrix.items()
    ]


def _statuses(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _worst(w: dict[str, Any]) -> dict[str, Any]:
    findings, flip, dp, dt = worst_image_cells(w)
    return {"path": str(w["path"]), "findings": findings, "flip": flip, "dp": dp, "dt": dt}
