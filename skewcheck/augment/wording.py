"""What every format of the augmentation report says, in one place (terminal, Markdown, JUnit, HTML)."""

from __future__ import annotations

from typing import Any

from skewcheck.augment.findings import class_name, strength_text
from skewcheck.report.common import pct

FINDING_HEADERS = ("severity", "kind", "transform", "strength", "what", "examples")
RANGE_HEADERS = ("transform", "clean", "by strength", "safe up to", "beyond")


def headline(data: dict[str, Any]) -> str:
    s = data["summary"]
    failing = [f for f in data["findings"] if f["fails_gate"]]
    verdict = "FAIL" if data["exit_code"] else "PASS"
    counts = f"{len(data['findings'])} finding(s), {len(failing)} at or above --fail-on {data['gate']}"
    return (
        f"{verdict}: {counts}; {data['augment']['transforms']} transform(s) on {s['images']} image(s), "
        f"{s['model_passes']} batched model pass(es)"
    )


def setup_line(data: dict[str, Any]) -> str:
    s = data["summary"]
    lo, hi = s["value_range"]
    clean = s["clean"].get(s["metric"])
    return (
        f"task {s['task']}; {s['metric']} on the clean images {pct(clean)}; transforms act on the train "
        f"tensor in [{lo:g}, {hi:g}] ({s['value_range_from']}); confident = p ≥ {s['confidence']:g}; "
        f"out of distribution = more than {s['max_drop_points']:g} points lost"
    )


def _interval(iv: list[float] | None) -> str:
    return "" if not iv else f", 95 % CI {iv[0]:.0%}–{iv[1]:.0%}"


def what(f: dict[str, Any]) -> str:
    if f["kind"] == "label-breaking":
        return (
            f"{f['from_name']} → {f['to_name']}: {f['count']} of {f['of']} confident ({pct(f['share'], 0)}"
            f"{_interval(f['interval'])})"
        )
    if f["kind"] == "target-breaking":
        iou = "n/a" if f["matched_iou"] is None else f"{f['matched_iou']:.2f}"
        return (
            f"objects found elsewhere on {f['count']} of {f['of']} images ({pct(f['share'], 0)}"
            f"{_interval(f['interval'])}); matched IoU {iou}"
        )
    if f["kind"] == "out-of-distribution":
        safe = "none" if f["safe_max"] is None else strength_text(f["safe_max"])
        return f"{f['metric']} -{f['drop_points']:.1f} points at worst; safe up to {safe}"
    return f"raised on {f['images']} image(s): {f['error']}"


def finding_cells(f: dict[str, Any]) -> tuple[str, ...]:
    strengths = f.get("strengths") or [f.get("strength")]
    shown = ", ".join(strength_text(s) for s in strengths)
    return (f["severity"], f["kind"], f["transform"], shown, what(f), ", ".join(f.get("examples") or []))


def metric_at(result: dict[str, Any], metric: str) -> str:
    if not result.get("images"):
        return f"{strength_text(result['strength'])}: error"
    return f"{strength_text(result['strength'])}: {pct(result.get(metric))}"


def range_cells(t: dict[str, Any], summary: dict[str, Any]) -> tuple[str, ...]:
    metric = summary["metric"]
    if t.get("error"):
        return (t["name"], pct(summary["clean"].get(metric)), f"error: {t['error']}", "—", "—")
    by = " · ".join(metric_at(r, metric) for r in t["results"])
    safe = "none" if t["safe_max"] is None and t["beyond"] else strength_text(t["safe_max"]) if t["safe"] else "—"
    beyond = ", ".join(strength_text(s) for s in t["beyond"]) or "—"
    unit = f" {t['unit']}" if t.get("unit") else ""
    return (t["name"] + (f" ({unit.strip()})" if unit else ""), pct(summary["clean"].get(metric)), by, safe, beyond)


def per_class_lines(t: dict[str, Any], names: list[str] | None) -> list[str]:
    """One line per strength: the classes whose consistency is lowest (up to 3)."""
    lines = []
    for r in t["results"]:
        per = r.get("per_class") or {}
        worst = sorted(per.items(), key=lambda kv: (kv[1]["consistency"] or 0, kv[0]))[:3]
        if worst:
            cells = ", ".join(f"{class_name(int(c), names)} {pct(v['consistency'], 0)}" for c, v in worst)
            lines.append(f"{t['name']} {strength_text(r['strength'])}: least consistent classes {cells}")
    return lines
