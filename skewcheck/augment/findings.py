"""From the measured strengths to the safe range of each transform and the findings.

Finding kinds (stable names, used in JSON and tests):

- ``label-breaking``: a class pair (c → d) that the transform confidently swaps, for at least
  ``break_share`` of the images the model confidently answers c when clean (and at least 2);
  ``critical`` when it is half of them or more, else ``major``. One finding per transform and
  pair, at the strength where it is most frequent (the other strengths where it shows are listed).
- ``target-breaking`` (detection): the model finds the objects, but not where the transform's
  boxes say (``found_elsewhere_share`` ≥ ``break_share``): ``critical``.
- ``out-of-distribution``: strengths at which the task metric (accuracy against the labels, else
  consistency with the clean answers, else target agreement) falls more than ``max_drop`` points
  below the clean images': ``major``. The safe range is every tried strength up to the first such.
- ``transform-error``: the transform raised on some images (``major``: training would raise too),
  or on all of them (``critical``).
"""

from __future__ import annotations

from typing import Any

SEVERITIES = ("info", "minor", "major", "critical")
CRITICAL_SHARE = 0.5


def class_name(index: int, names: list[str] | None) -> str:
    return names[index] if names and 0 <= index < len(names) else str(index)


def strength_text(strength: float | None) -> str:
    return "as given" if strength is None else f"{strength:g}"


def grade(transforms: list[dict[str, Any]], summary: dict[str, Any], names: list[str] | None) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = []
    for t in transforms:
        _safe_range(t, summary)
        findings += _errors(t)
        findings += _label_breaking(t, names)
        findings += _target_breaking(t)
        findings += _out_of_distribution(t, summary)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    kinds = ("label-breaking", "target-breaking", "transform-error", "out-of-distribution")
    findings.sort(key=lambda f: (-order[f["severity"]], kinds.index(f["kind"]), f["transform"]))
    return findings


def _safe_range(t: dict[str, Any], summary: dict[str, Any]) -> None:
    limit = summary["max_drop_points"]
    safe: list[Any] = []
    beyond: list[Any] = []
    for r in t["results"]:  # weakest first: the safe range ends at the first strength that costs too much
        drop = r.get("drop_points")
        if beyond or (drop is not None and drop > limit):
            beyond.append(r["strength"])
        elif drop is not None:
            safe.append(r["strength"])
    t["safe"] = safe
    t["beyond"] = beyond
    t["safe_max"] = safe[-1] if safe else None


def _errors(t: dict[str, Any]) -> list[dict[str, Any]]:
    failing = [r for r in t["results"] if r.get("transform_errors")]
    if not failing:
        return []
    worst = max(failing, key=lambda r: r["transform_errors"])
    everywhere = bool(t.get("error"))
    return [
        {
            "kind": "transform-error",
            "severity": "critical" if everywhere else "major",
            "transform": t["name"],
            "strength": worst["strength"],
            "images": worst["transform_errors"],
            "error": worst.get("first_error"),
            "explanation": f"{t['name']} raised on {worst['transform_errors']} image(s)"
            + (" at every strength" if everywhere else f" at strength {strength_text(worst['strength'])}")
            + f": {worst.get('first_error')}",
            "fix": "fix the transform: training with this policy would raise on the same images",
        }
    ]


def _label_breaking(t: dict[str, Any], names: list[str] | None) -> list[dict[str, Any]]:
    best: dict[tuple[int, int], tuple[dict[str, Any], Any]] = {}
    seen: dict[tuple[int, int], list[Any]] = {}
    for r in t["results"]:
        for pair in r.get("pairs", []):
            if not pair["label_breaking"]:
                continue
            key = (pair["from"], pair["to"])
            seen.setdefault(key, []).append(r["strength"])
            if key not in best or pair["count"] > best[key][0]["count"]:
                best[key] = (pair, r["strength"])
    out = []
    for (a, b), (pair, strength) in best.items():
        ca, cb = class_name(a, names), class_name(b, names)
        out.append(
            {
                "kind": "label-breaking",
                "severity": "critical" if pair["share"] >= CRITICAL_SHARE else "major",
                "transform": t["name"],
                "strength": strength,
                "strengths": seen[(a, b)],
                "from": a,
                "to": b,
                "from_name": ca,
                "to_name": cb,
                "count": pair["count"],
                "of": pair["of"],
                "share": pair["share"],
                "interval": pair["interval"],
                "examples": pair["examples"],
                "explanation": (
                    f"{t['name']} at {strength_text(strength)} turns {pair['count']} of the {pair['of']} images the "
                    f"model confidently calls {ca!r} into a confident {cb!r} ({pair['share']:.0%}): "
                    "the transformed image carries another label"
                ),
                "fix": f"drop {t['name']} from the policy for class {ca!r} (or relabel the transformed images as {cb!r})",
            }
        )
    out.sort(key=lambda f: (-f["count"], f["from"], f["to"]))
    return out


def _target_breaking(t: dict[str, Any]) -> list[dict[str, Any]]:
    hits = [r for r in t["results"] if r.get("target_breaking")]
    if not hits:
        return []
    worst = max(hits, key=lambda r: r["found_elsewhere"])
    how = "its box function" if t["moves_boxes"] else "it leaves the boxes where they were"
    return [
        {
            "kind": "target-breaking",
            "severity": "critical",
            "transform": t["name"],
            "strength": worst["strength"],
            "strengths": [r["strength"] for r in hits],
            "count": worst["found_elsewhere"],
            "of": worst["images"],
            "share": worst["found_elsewhere_share"],
            "interval": worst["found_elsewhere_interval"],
            "matched_iou": worst["matched_iou"],
            "examples": worst["examples"],
            "explanation": (
                f"on {worst['found_elsewhere']} of {worst['images']} images the model finds the objects after "
                f"{t['name']}, but not where {how} puts the boxes (mean IoU of the matched boxes "
                f"{worst['matched_iou'] if worst['matched_iou'] is not None else 'n/a'})"
            ),
            "fix": f"move the boxes with the pixels in {t['name']} (the same matrix / flip for both)",
        }
    ]


def _out_of_distribution(t: dict[str, Any], summary: dict[str, Any]) -> list[dict[str, Any]]:
    if not t["beyond"]:
        return []
    rows = [r for r in t["results"] if r["strength"] in t["beyond"] and r.get("drop_points") is not None]
    if not rows:
        return []
    first, worst = rows[0], max(rows, key=lambda r: r["drop_points"])
    metric = summary["metric"]
    safe = "no tried strength" if t["safe_max"] is None else f"up to {strength_text(t['safe_max'])}"
    return [
        {
            "kind": "out-of-distribution",
            "severity": "major",
            "transform": t["name"],
            "strength": first["strength"],
            "strengths": t["beyond"],
            "safe_max": t["safe_max"],
            "drop_points": worst["drop_points"],
            "metric": metric,
            "value": worst.get(metric),
            "explanation": (
                f"{t['name']} costs more than {summary['max_drop_points']:g} points of {metric} from strength "
                f"{strength_text(first['strength'])} on (worst: -{worst['drop_points']:.1f} points at "
                f"{strength_text(worst['strength'])}); safe: {safe}"
            ),
            "fix": f"train {t['name']} within its safe range ({safe})",
        }
    ]
