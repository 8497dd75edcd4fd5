"""One self-contained HTML file, rendered from ``Report.to_dict(thumbnails=True)``.

No external fetch: styles and the sorting script are inline, images are ``data:`` URIs, and a
Content-Security-Policy forbids anything else. Every value from the data goes through
:func:`esc` (HTML-escaped, quotes included), whatever its origin.
"""

from __future__ import annotations

import html
from typing import Any

from skewcheck.report.common import (
    after_fixes_text,
    class_rows,
    divergence_lines,
    evidence_text,
    failing_findings,
    headline,
    impact_text,
    num,
    pct,
    side_status,
    to_pass,
    to_pass_label,
)  # fmt: skip
from skewcheck.report.html_assets import CSP, CSS, SCRIPT

WORST_SHOWN = 10


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_html(data: dict[str, Any]) -> str:
    s = data["summary"]
    body = [_banner(data), "<main>", _tiles(data), _divergence(data), _to_pass(data),
            _findings_table(data["findings"], data["gate"], s)]  # fmt: skip
    body.append(_examples(data["findings"]))
    body.append(_accuracy(s))
    body.append(_confidence(s))
    if data.get("probe_matrix"):
        body.append(_probe_matrix(data["probe_matrix"]))
    if data.get("worst_images"):
        body.append(_worst(data["worst_images"][:WORST_SHOWN]))
    body.append(f"<footer>skewcheck {esc(data.get('skewcheck_version', ''))} · {esc(data['schema'])} · "
                f"{_errors(s)}</footer></main>")  # fmt: skip
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>skewcheck: {esc(data['verdict'].upper())}</title>\n<style>{CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{SCRIPT}</script>\n</body></html>\n"
    )


def _banner(data: dict[str, Any]) -> str:
    model = data.get("model") or {}
    p = data["pipelines"]
    refs = (f"model <span class=\"mono\">{esc(model.get('path'))}</span> ({esc(model.get('format'))}) · "
            f"train <span class=\"mono\">{esc(p['train']['ref'])}</span> · "
            f"serve <span class=\"mono\">{esc(p['serve']['ref'])}</span>")  # fmt: skip
    return (f"<header class=\"banner {esc(data['verdict'])}\"><div><div class=\"verdict\">{esc(data['verdict'].upper())}"
            f"</div><div class=\"headline\">{esc(headline(data))}</div><div class=\"refs\">{refs}</div></div></header>")  # fmt: skip


def _tiles(data: dict[str, Any]) -> str:
    s = data["summary"]
    tiles = [(str(s["images"]), "images", False), (str(s["compared"]), "compared (both pipelines gave a tensor)", False),
             (str(len(failing_findings(data))), f"findings at or above '{data['gate']}'", bool(failing_findings(data)))]  # fmt: skip
    if s.get("top1_agreement") is not None:
        tiles.append((pct(s["top1_agreement"]), f"top-1 agreement ({s['flips']} flips)", s["flips"] > 0))
    acc = s.get("accuracy")
    if acc and acc.get("train") is not None and acc.get("serve") is not None:
        tiles.append((f"{pct(acc['train'])} → {pct(acc['serve'])}", "accuracy train → serve", acc["serve"] < acc["train"]))
    wrong = s.get("confident_wrong")
    if wrong:
        tiles.append((str(wrong["serve"]), f"confidently wrong under serve (≥ {wrong['threshold']:g})", wrong["serve"] > 0))
    cells = "".join(f"<div class=\"tile{' bad' if bad else ''}\"><div class=\"n\">{esc(n)}</div>"
                    f"<div class=\"l\">{esc(label)}</div></div>" for n, label, bad in tiles)  # fmt: skip
    return f"<section class=\"tiles\">{cells}</section>"


def _divergence(data: dict[str, Any]) -> str:
    return "".join(f"<p class=\"divergence\">{esc(line)}</p>" for line in divergence_lines(data.get("divergence")))


def _to_pass(data: dict[str, Any]) -> str:
    items = to_pass(data)
    if not items:
        return ""
    codes = " · ".join(f"<code>{esc(i)}</code>" for i in items)
    return f"<p class=\"topass\"><b>{esc(to_pass_label(data).capitalize())}:</b> {codes}</p>"


def _sev(severity: str) -> str:
    return f"<span class=\"sev {esc(severity)}\">{esc(severity)}</span>"


def _findings_table(findings: list[dict[str, Any]], gate: str, summary: dict[str, Any]) -> str:
    if not findings:
        return "<h2>Findings</h2><p>No finding: the two pipelines agree on every compared image.</p>"
    order = {"info": 0, "minor": 1, "major": 2, "critical": 3}
    rows = []
    for i, f in enumerate(findings, 1):
        evidence = f"<div class=\"evidence\">evidence: {esc(evidence_text(f['evidence']))}</div>" if f["evidence"] else ""
        rows.append(
            f"<tr><td class=\"num\">{i}</td><td data-sort=\"{order[f['severity']]}\">{_sev(f['severity'])}</td>"
            f"<td><a href=\"#finding-{i}\">{esc(f['kind'])}</a></td><td>{esc(f['side'] or '-')}</td>"
            f"<td class=\"num\">{f['images']}</td><td class=\"num\">{f['flips']}</td>"
            f"<td>{esc(f['explanation'])}{evidence}<div class=\"impact\">{esc(impact_text(f, summary))}</div></td>"
            f"<td class=\"fix\">{esc(f['fix'])}</td></tr>"
        )
    head = ("<tr><th class=\"num\">#</th><th>severity</th><th>kind</th><th>side</th><th class=\"num\">images</th>"
            "<th class=\"num\">flips</th><th>what and why</th><th>fix</th></tr>")  # fmt: skip
    residual = after_fixes_text(summary)
    tail = f"<p class=\"impact\">{esc(residual.capitalize())}.</p>" if residual else ""
    return (f"<h2>Findings, most important first <span class=\"muted\">(gate: {esc(gate)}; click a column to sort)"
            f"</span></h2><table class=\"sortable\"><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>{tail}")  # fmt: skip


def _examples(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return ""
    parts = [("<h2>Worst examples per finding <span class=\"muted\">(each tensor min-max scaled on its own; "
              "channels in stored order; heat map: |serve − train|)</span></h2>")]  # fmt: skip
    for i, f in enumerate(findings, 1):
        shots = f.get("thumbnails") or []
        examples = "".join(_example(e) for e in shots) or "<p class=\"muted\">No example image kept.</p>"
        parts.append(
            f"<article class=\"finding\" id=\"finding-{i}\"><h3>{i}. {_sev(f['severity'])} {esc(f['kind'])} · "
            f"side {esc(f['side'] or '-')} · {f['images']} images, {f['flips']} flips</h3>"
            f"<p>{esc(f['explanation'])}</p><p class=\"fix\">Fix: {esc(f['fix'])}</p>"
            f"<div class=\"examples\">{examples}</div></article>"
        )
    return "".join(parts)


def _example(e: dict[str, Any]) -> str:
    flip = " <span class=\"flip\">top-1 flipped</span>" if e.get("flipped") else ""
    diff = e.get("diff")
    diff_fig = (_figure(diff["png"], "|diff|", f"max |Δ| {num(diff['max_abs'], '.4g')}") if diff
                else _figure(None, "|diff|", "no aligned pair of tensors", missing="no diff"))  # fmt: skip
    return (f"<div class=\"example\"><div class=\"path mono\">{esc(e['path'])}{flip}</div><div class=\"triptych\">"
            f"{_side_figure(e['train'], 'train')}{_side_figure(e['serve'], 'serve')}{diff_fig}</div></div>")  # fmt: skip


def _side_figure(side: dict[str, Any], name: str) -> str:
    return _figure(side.get("png"), name, side_status(side), missing=str(side.get("status", "no tensor")))


def _figure(png: str | None, title: str, caption: str, missing: str = "no image") -> str:
    if png:
        picture = f"<img alt=\"{esc(title)}\" src=\"data:image/png;base64,{esc(png)}\">"
    else:
        picture = f"<div class=\"missing\">{esc(missing)}</div>"
    return f"<figure>{picture}<figcaption><b>{esc(title)}</b> {esc(caption)}</figcaption></figure>"


def _accuracy(s: dict[str, Any]) -> str:
    acc = s.get("accuracy")
    if not acc:
        return ""
    delta = None if acc["train"] is None or acc["serve"] is None else acc["serve"] - acc["train"]
    rows = [_acc_row("all classes", s.get("labelled", {}).get("train"), acc["train"], acc["serve"], delta, strong=True)]
    rows += [_acc_row(f"class {r['name']}", r["images"], r["train"], r["serve"], r["delta"]) for r in class_rows(s)]
    head = ("<tr><th>class</th><th class=\"num\">images</th><th class=\"num\">train</th><th class=\"num\">serve</th>"
            "<th class=\"num\">Δ (points)</th></tr>")  # fmt: skip
    return (f"<h2>Accuracy under each pipeline <span class=\"muted\">(worst drop first; click to sort)</span></h2>"
            f"<table class=\"sortable narrow\"><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>")  # fmt: skip


def _acc_row(name: str, n: int | None, train: float | None, serve: float | None, delta: float | None,
             strong: bool = False) -> str:  # fmt: skip
    def cell(x: float | None, text: str) -> str:
        return f"<td class=\"num\" data-sort=\"{'' if x is None else x}\">{esc(text)}</td>"

    label = f"<b>{esc(name)}</b>" if strong else esc(name)
    shown = "n/a" if delta is None else f"{100 * delta:+.1f}"
    return (f"<tr><td>{label}</td><td class=\"num\">{'' if n is None else n}</td>{cell(train, pct(train))}"
            f"{cell(serve, pct(serve))}{cell(delta, shown)}</tr>")  # fmt: skip


def _confidence(s: dict[str, Any]) -> str:
    conf = s.get("confidence")
    if not conf:
        return ""
    bins, peak = conf["bins"], max(max(conf["train"]), max(conf["serve"]), 1)
    used = [i for i in range(len(bins) - 1) if conf["train"][i] or conf["serve"][i]]
    rows = []
    for i in range(used[0], used[-1] + 1) if used else ():  # no empty rows before the first or after the last count
        cells = "".join(f"<td><span class=\"bar {side}\" style=\"width:{200 * conf[side][i] / peak:.0f}px\"></span>"
                        f"{conf[side][i]}</td>" for side in ("train", "serve"))  # fmt: skip
        rows.append(f"<tr><td class=\"mono\">{bins[i]:.1f}–{bins[i + 1]:.1f}</td>{cells}</tr>")
    table = ("<table class=\"narrow\"><thead><tr><th>top-1 confidence</th><th>train</th><th>serve</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table>")  # fmt: skip
    wrong = s.get("confident_wrong")
    callout = ""
    if wrong:
        items = "".join(f"<li><span class=\"mono\">{esc(e['path'])}</span>: label {esc(e['label'])}, serve predicted "
                        f"{esc(e['predicted'])} with confidence {num(e['confidence'], '.3f')}</li>" for e in wrong["examples"])  # fmt: skip
        alarm = "" if wrong["serve"] else " neutral"  # none under serve: a fact, not an alert
        callout = (f"<div class=\"callout{alarm}\"><b>{wrong['serve']} confidently wrong predictions under serve</b> "
                   f"(confidence ≥ {wrong['threshold']:g}, wrong label; train: {wrong['train']}). Confidence is no "
                   f"proof of correctness.{f'<ul>{items}</ul>' if items else ''}</div>")  # fmt: skip
    return f"<h2>Top-1 confidence under each pipeline</h2>{table}{callout}"


def _probe_matrix(matrix: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{esc(kind)}</td><td>{esc(row['expect'])}</td><td class=\"num\">{row['images']}</td>"
        f"<td>{esc(_statuses(row['train']))}</td><td>{esc(_statuses(row['serve']))}</td>"
        f"<td class=\"num\">{row['differ']}</td></tr>"
        for kind, row in matrix.items()
    )
    head = ("<tr><th>probe kind</th><th>expect</th><th class=\"num\">images</th><th>train</th><th>serve</th>"
            "<th class=\"num\">differ</th></tr>")  # fmt: skip
    return f"<h2>Probe kind × outcome</h2><table class=\"sortable\"><thead>{head}</thead><tbody>{rows}</tbody></table>"


def _statuses(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _worst(worst: list[dict[str, Any]]) -> str:
    rows = []
    for w in worst:
        m = w.get("metrics", {})
        dp = m.get("prediction", {}).get("max_abs_dp")
        dt = m.get("tensor", {}).get("mean_abs_diff")
        rows.append(f"<tr><td class=\"mono\">{esc(w['path'])}</td><td>{esc(', '.join(w['findings']) or '-')}</td>"
                    f"<td>{'yes' if w['flipped'] else 'no'}</td><td class=\"num\">{'-' if dp is None else f'{dp:.3f}'}</td>"
                    f"<td class=\"num\">{'-' if dt is None else f'{dt:.4g}'}</td></tr>")  # fmt: skip
    head = ("<tr><th>image</th><th>findings</th><th>top-1 flip</th><th class=\"num\">max |Δp|</th>"
            "<th class=\"num\">mean |Δ tensor|</th></tr>")  # fmt: skip
    return f"<h2>Worst images</h2><table class=\"sortable\"><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _errors(s: dict[str, Any]) -> str:
    return " · ".join(f"{label}: train {s[key]['train']}, serve {s[key]['serve']}"
                      for key, label in (("decode_errors", "decode errors"), ("pipeline_errors", "pipeline errors"),
                                         ("model_errors", "model errors")))  # fmt: skip
