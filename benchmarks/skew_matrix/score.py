"""The scorer: rows (run.py) → the confusion numbers, and the Markdown that prints them.

Rules (docs/skew-matrix.md repeats them):

- A finding *counts* when its severity is ``minor`` or above. ``info`` findings (the detector saw a
  pattern, the grading measured that undoing it buys nothing) count neither as a detection nor as
  a false positive; the recall table shows, apart, the recall if they did count.
- **Recall** of an expected kind K: the share of the cases whose true kinds hold K in which a
  counted finding is K or a kind the cause table accepts for it (``crop`` for a letterbox).
- **Precision** of a reported kind R: over the cases with a counted R finding, the share where R
  is true (or accepted). The residual kinds (``prediction``, ``unexplained``: "something differs
  that no named cause explains") are right exactly where the case holds a kind skewcheck has no
  finding kind for (``quantization``), else false positives.
- **First finding** (single- and two-cause cases with effective causes): the first counted finding
  of the ranked report is a true kind. For two causes, also the strict score: it is the kind of
  the cause that alone moves the input most (lowest median cell distance, truth.py), on the
  cases where both causes have a distance (no shape or dtype change) and they differ.
- **False alarms** on equivalent ports (measured equal within tolerance; ports that are not are
  set apart) and on inert causes: any counted finding, or an exit code other than 0.
- **Exit code**: the audit's exit is right when it is 1 exactly where truth.py says the gate
  should fail (0 where it should pass). Audits that raise are counted apart.
- **Confusions**: for each expected kind a case misses, each counted kind it got instead (or
  ``nothing``); for each port or inert case that alarms, ``none → R``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from benchmarks.skew_matrix.causes import BY_NAME, NO_SKEWCHECK_KIND, RESIDUAL_KINDS

COUNTED = {"minor", "major", "critical"}


def _counted(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in row["findings"] if f["severity"] in COUNTED]


def _right(kind: str, row: dict[str, Any]) -> bool:
    t = row["truth"]
    if kind in RESIDUAL_KINDS:
        return bool(set(t["kinds"]) & NO_SKEWCHECK_KIND)
    return kind in t["kinds"] or kind in t["accepted"]


def _hits(kind: str, row: dict[str, Any], findings: list[dict[str, Any]]) -> bool:
    names = {kind}
    for cause in row["causes"]:
        if BY_NAME[cause].kind == kind:
            names |= set(BY_NAME[cause].accepted)
    return any(f["kind"] in names for f in findings)


def category(row: dict[str, Any]) -> str:
    t = row["truth"]
    if row["group"] == "port":
        return "port" if t["equal"] else "port-not-equal"
    if not t["kinds"]:
        return "inert"
    return {1: "one-cause", 2: "two-causes"}.get(len(t["kinds"]), "more")


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ran = [r for r in rows if r["error"] is None]
    recall: dict[str, Counter] = defaultdict(Counter)
    precision: dict[str, Counter] = defaultdict(Counter)
    sides: dict[str, Counter] = defaultdict(Counter)
    confusions: Counter = Counter()
    first: dict[str, Counter] = defaultdict(Counter)
    alarms: dict[str, Counter] = defaultdict(Counter)
    exits: Counter = Counter()
    for r in ran:
        counted, cat, kinds = _counted(r), category(r), r["truth"]["kinds"]
        for k in kinds:
            recall[k]["cases"] += 1
            hit = _hits(k, r, counted)
            recall[k]["hits"] += hit
            recall[k]["hits_with_info"] += _hits(k, r, r["findings"])
            if hit:
                side = next(f["side"] for f in counted if _hits(k, r, [f]))
                sides[k][side if side in ("serve", "unknown") else "other"] += 1
            else:
                wrong = sorted({f["kind"] for f in counted if not _right(f["kind"], r)}) or ["nothing"]
                confusions.update((k, w) for w in wrong)
        for kind in {f["kind"] for f in counted}:
            precision[kind]["reported"] += 1
            precision[kind]["right"] += _right(kind, r)
        if cat in ("one-cause", "two-causes"):
            first[cat]["cases"] += 1
            top = counted[0]["kind"] if counted else None
            first[cat]["right"] += top is not None and _right(top, r) and top not in RESIDUAL_KINDS
            if cat == "two-causes":
                biggest = _biggest(r)
                if biggest is not None:
                    first[cat]["strict_cases"] += 1
                    first[cat]["strict"] += top is not None and _hits(biggest, r, counted[:1])
        if cat in ("port", "inert"):
            alarms[cat]["cases"] += 1
            loud = bool(counted) or r["exit_code"] != 0
            alarms[cat]["alarms"] += loud
            confusions.update(("none", f["kind"]) for f in counted)
            if not counted and r["exit_code"] != 0:
                confusions[("none", f"exit {r['exit_code']}")] += 1
        should = r["truth"]["should_fail"]
        got = r["exit_code"] == 1
        exits["cases"] += 1
        exits["right"] += should == got
        exits["missed_fail" if should and not got else "false_fail" if got and not should else "ok"] += 1
    return {
        "cases": len(rows),
        "errors": len(rows) - len(ran),
        "categories": dict(Counter(category(r) for r in ran)),
        "recall": {k: dict(v) for k, v in sorted(recall.items())},
        "precision": {k: dict(v) for k, v in sorted(precision.items())},
        "sides": {k: dict(v) for k, v in sorted(sides.items())},
        "first": {k: dict(v) for k, v in sorted(first.items())},
        "alarms": {k: dict(v) for k, v in sorted(alarms.items())},
        "exit": dict(exits),
        "confusions": sorted(([a, b, n] for (a, b), n in confusions.items()), key=lambda x: (-x[2], x[0], x[1])),
    }


def _biggest(row: dict[str, Any]) -> str | None:
    """The kind of the effective cause that alone moves the input most (lowest median dB)."""
    dbs = [(db, BY_NAME[c].kind) for c, db in row["truth"]["cause_db"].items() if db is not None]
    if len(dbs) != len(row["truth"]["cause_db"]) or len(dbs) < 2 or dbs[0][0] == dbs[1][0]:
        return None  # a shape or dtype change (no distance to rank by), or a tie
    return min(dbs)[1]


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f} % ({n}/{d})" if d else "—"


def markdown(s: dict[str, Any], top: int = 15) -> str:
    lines = ["| expected kind | cases | recall | recall counting info | side: serve / unknown / other |"]
    lines.append("|---|---:|---:|---:|---|")
    for k, v in s["recall"].items():
        side = s["sides"].get(k, {})
        sided = f"{side.get('serve', 0)} / {side.get('unknown', 0)} / {side.get('other', 0)}"
        lines.append(
            f"| {k} | {v['cases']} | {_pct(v['hits'], v['cases'])} | {_pct(v['hits_with_info'], v['cases'])} | {sided} |"
        )
    lines += ["", "| reported kind (≥ minor) | cases reporting it | precision |", "|---|---:|---:|"]
    for k, v in sorted(s["precision"].items(), key=lambda kv: -kv[1]["reported"]):
        lines.append(f"| {k} | {v['reported']} | {_pct(v['right'], v['reported'])} |")
    f1, f2 = s["first"].get("one-cause", {}), s["first"].get("two-causes", {})
    a_port, a_inert = s["alarms"].get("port", {}), s["alarms"].get("inert", {})
    e = s["exit"]
    lines += [
        "",
        "| headline | value |",
        "|---|---|",
        f"| first finding right, one-cause cases | {_pct(f1.get('right', 0), f1.get('cases', 0))} |",
        f"| first finding right (either cause), two-cause cases | {_pct(f2.get('right', 0), f2.get('cases', 0))} |",
        f"| first finding is the bigger cause, two-cause cases without a contract break "
        f"| {_pct(f2.get('strict', 0), f2.get('strict_cases', 0))} |",
        f"| false alarms, equivalent ports | {_pct(a_port.get('alarms', 0), a_port.get('cases', 0))} |",
        f"| false alarms, inert causes | {_pct(a_inert.get('alarms', 0), a_inert.get('cases', 0))} |",
        f"| exit code right | {_pct(e.get('right', 0), e.get('cases', 0))} |",
        f"| exit 0 where the gate should fail | {e.get('missed_fail', 0)} |",
        f"| exit 1 where the gate should pass | {e.get('false_fail', 0)} |",
        f"| audits that raised | {s['errors']} |",
        "",
        f"Worst confusions (top {top}):",
        "",
        "| expected | got | cases |",
        "|---|---|---:|",
    ]
    lines += [f"| {a} | {b} | {n} |" for a, b, n in s["confusions"][:top]]
    return "\n".join(lines)


def pins(s: dict[str, Any]) -> dict[str, Any]:
    """The numbers the slice test pins: counts only (no rates), so any change shows."""
    return {
        "cases": s["cases"],
        "errors": s["errors"],
        "categories": s["categories"],
        "recall": {k: [v["cases"], v["hits"], v["hits_with_info"]] for k, v in s["recall"].items()},
        "precision": {k: [v["reported"], v["right"]] for k, v in s["precision"].items()},
        "first": {
            k: [v.get(n, 0) for n in ("cases", "right", "strict_cases", "strict")] for k, v in s["first"].items()
        },
        "alarms": {k: [v["cases"], v["alarms"]] for k, v in s["alarms"].items()},
        "exit": [s["exit"].get("cases", 0), s["exit"].get("right", 0), s["exit"].get("missed_fail", 0)],
    }
