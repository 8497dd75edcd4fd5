"""The augmentation report as one self-contained HTML page: the tables of the other formats and,
per transform, a small inline SVG curve of the task metric against the strength, with the line
``max_drop_points`` below the clean value. Rendered through the report package's Jinja2
environment (autoescape on); the curve's coordinates are numbers computed here, never markup."""

from __future__ import annotations

from typing import Any

from skewcheck.augment.findings import strength_text
from skewcheck.augment.wording import FINDING_HEADERS, RANGE_HEADERS, finding_cells, headline, range_cells, setup_line
from skewcheck.safe_text import visible_page

TEMPLATE = "augment.html.j2"
WIDTH, HEIGHT, PAD = 240, 120, 24


def curve(t: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any] | None:
    """Polyline points (clean at x = 0, then each strength in order) and the tolerance line's y."""
    metric = summary["metric"]
    clean = summary["clean"].get(metric)
    values = [(strength_text(r["strength"]), r.get(metric)) for r in t["results"] if r.get("images")]
    if clean is None or not values:
        return None
    xs = [PAD + i * (WIDTH - 2 * PAD) / max(len(values), 1) for i in range(len(values) + 1)]

    def y(v: float) -> float:
        return round(HEIGHT - PAD - max(0.0, min(1.0, v)) * (HEIGHT - 2 * PAD), 2)

    points = [(round(xs[0], 2), y(clean))] + [
        (round(x, 2), y(v if v is not None else 0.0)) for x, (_, v) in zip(xs[1:], values, strict=True)
    ]
    return {
        "points": " ".join(f"{x},{yy}" for x, yy in points),
        "dots": [{"x": x, "y": yy} for x, yy in points],
        "labels": [{"x": round(xs[0], 2), "text": "clean"}]
        + [{"x": round(x, 2), "text": s} for x, (s, _) in zip(xs[1:], values, strict=True)],
        "limit_y": y(clean - summary["max_drop_points"] / 100),
        "width": WIDTH,
        "height": HEIGHT,
        "pad": PAD,
    }


def render_html(data: dict[str, Any]) -> str:
    from skewcheck.report.html import environment

    context = {
        "data": data,
        "headline": headline(data),
        "setup": setup_line(data),
        "finding_headers": FINDING_HEADERS,
        "findings": [(f["severity"], finding_cells(f)) for f in data["findings"]],
        "range_headers": RANGE_HEADERS,
        "ranges": [range_cells(t, data["summary"]) for t in data["transforms"]],
        "curves": [(t["name"], curve(t, data["summary"])) for t in data["transforms"]],
        "metric": data["summary"]["metric"],
    }
    return visible_page(environment().get_template(TEMPLATE).render(context))
