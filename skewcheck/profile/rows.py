"""The rows every profile format shows, from ``Profile.to_dict()``: one wording for all of them."""

from __future__ import annotations

from typing import Any

from skewcheck.profile.flags import pct

SHOWN_FAILURES = 20
SHOWN_VALUES = 4  # values of a category on its line


def _failures(n: int) -> str:
    return f"{n:,} decode failure{'s' if n != 1 else ''}"


def headline(data: dict[str, Any]) -> str:
    images = data["images"]
    line = f"profiled {images['files']:,} files under {images['source']}"
    sample = images.get("sample")
    if sample:
        line += f" (a seeded sample of {sample['of']:,})"
    pixels = images.get("pixel_sample") or {"complete": True}
    if pixels["complete"]:
        line += f": {images['decoded']:,} decoded, {_failures(images['files'] - images['decoded'])}"
    else:
        whole = data["categories"].get("status", {}).get("values", {}).get("ok", {}).get("count", 0)
        headers = images["files"] - whole
        trait = data["traits"]["decode_failure"]
        line += (
            f": headers of every file read, {_failures(headers)} found there; pixels decoded on a seeded sample of"
            f" {pixels['files']:,} ({pct(pixels['share'])}): {pixels['decoded'] - pixels['decode_failures']:,} decoded,"
            f" {_failures(pixels['decode_failures'])}; about {pct(trait['share'] or 0)} of the files fail to decode"
            f" {_percent_interval(trait['ci95'])}"
        )
    ref = data.get("reference")
    if ref:
        line += f"; reference: {ref['files']:,} files under {ref['source']}"
        ref_pixels = ref.get("pixel_sample") or {"complete": True}
        if not ref_pixels["complete"]:
            line += f" (pixels: a sample of {ref_pixels['files']:,})"
    return line


def _percent_interval(ci: list[float] | None) -> str:
    return "" if ci is None else f"(95 %: {pct(ci[0])}-{pct(ci[1])})"


def _interval(ci: list[float] | None) -> str:
    return "" if ci is None else f"[{ci[0] * 100:+.1f}, {ci[1] * 100:+.1f}] pts"


def trait_rows(data: dict[str, Any]) -> list[list[str]]:
    """trait, share here, reference share, difference with its 95 % interval (reference only);
    the traits no file of either set carries are left out (the JSON has them all)."""
    rows = []
    for name, trait in data["traits"].items():
        if not trait["count"] and not trait.get("reference", {}).get("count"):
            continue
        estimated = "≈" if trait.get("estimated") else ""
        row = [name, f"{estimated}{pct(trait['share'] or 0)} ({trait['count']:,}{' found' if estimated else ''})"]
        if data.get("reference"):
            diff = trait.get("difference")
            ref_estimated = "≈" if trait["reference"].get("estimated") else ""
            row += [
                f"{ref_estimated}{pct(trait['reference']['share'] or 0)} ({trait['reference']['count']:,})",
                f"{diff['value'] * 100:+.1f} pts {_interval(diff['ci95'])}" if diff else "",
            ]
        rows.append(row)
    return rows


def _values_line(values: list[tuple[str, dict[str, Any]]]) -> str:
    shown = [(v, e) for v, e in values if e["count"]]
    text = ", ".join(f"{v} {pct(e['share'] or 0)}" for v, e in shown[:SHOWN_VALUES])
    return text + (f", +{len(shown) - SHOWN_VALUES} more" if len(shown) > SHOWN_VALUES else "")


def category_rows(data: dict[str, Any]) -> list[list[str]]:
    """category, its most frequent values here (and in the reference)."""
    rows = []
    for name, category in data["categories"].items():
        values = list(category["values"].items())
        row = [name, _values_line(values)]
        if data.get("reference"):
            row.append(_values_line([(v, e["reference"]) for v, e in values]))
        rows.append(row)
    return rows


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def number_rows(data: dict[str, Any]) -> list[list[str]]:
    """property (unit), median [p05-p95] here, in the reference, PSI (noise floor), W1 (noise floor)."""
    rows = []
    for name, number in data["numbers"].items():

        def spread(d: dict[str, Any]) -> str:
            return f"{_num(d['median'])} [{_num(d['p05'])}–{_num(d['p95'])}]" if d.get("count") else "–"

        row = [f"{name} ({number['unit']})", spread(number)]
        if data.get("reference"):
            drift = number.get("drift")
            row += [
                spread(number["reference"]),
                f"{drift['psi']:.3f} ({drift['psi_noise95']:.3f})" if drift else "",
                f"{_num(drift['wasserstein'])} ({_num(drift['wasserstein_noise95'])})" if drift else "",
            ]
        rows.append(row)
    return rows


def failure_rows(data: dict[str, Any]) -> list[list[str]]:
    return [[f["path"], f["status"], f["error"] or ""] for f in data["failures"]["listed"][:SHOWN_FAILURES]]


def more_failures(data: dict[str, Any]) -> int:
    return data["failures"]["count"] - min(SHOWN_FAILURES, len(data["failures"]["listed"]))


NUMBER_HEADER = ["property (unit)", "median [p05–p95]"]
NUMBER_REFERENCE_HEADER = ["reference", "PSI (noise floor)", "W1 (noise floor)"]
TRAIT_HEADER = ["trait", "share"]
TRAIT_REFERENCE_HEADER = ["reference", "difference (95 %)"]
