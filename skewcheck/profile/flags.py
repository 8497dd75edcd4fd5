"""Plain-language flags: what in a profile (and its drift from the reference) deserves a look.

* a trait (EXIF orientation, ICC, CMYK, alpha, decode failures …) whose share differs from the
  reference's with a 95 % interval that excludes zero, by one point or more; without a
  reference, every risky trait present at all; with one, also every risky trait it never shows;
* a number whose PSI is 0.1 or more (``moderate``), 0.25 or more (``major``), and above its
  noise floor (skewcheck/profile/drift.py);
* a format, mode, bit depth or chroma subsampling whose share differs from the reference's by five
  points or more, the interval excluding zero.

``level`` is ``warning`` where the set carries more of what breaks pipelines than the reference
does (or, without one, for decode failures), else ``info``.
"""

from __future__ import annotations

from typing import Any

RISKY = (
    "exif_rotated",
    "icc_not_srgb",
    "cmyk",
    "alpha",
    "grayscale",
    "high_bit_depth",
    "animated",
    "decode_failure",
    "truncated",
)
FLAGGED_CATEGORIES = ("format", "mode", "bit_depth", "subsampling")
MODERATE_PSI, MAJOR_PSI = 0.1, 0.25


def pct(share: float) -> str:
    """38 % ; 0.4 % ; 0 % (the space is the house style)."""
    value = 100 * share
    if value == 0 or value >= 10 or value == round(value):
        return f"{value:.0f} %"
    return f"{value:.1f} %" if value >= 0.1 else f"{value:.2f} %"


def _significant(difference: dict[str, Any] | None, at_least: float) -> bool:
    if not difference:
        return False
    low, high = difference["ci95"]
    return abs(difference["value"]) >= at_least and (low > 0 or high < 0)


def flags(profile: dict[str, Any]) -> list[dict[str, str]]:
    has_reference = profile.get("reference") is not None
    out = []
    for name, trait in profile["traits"].items():
        here = f"{pct(trait['share'] or 0)} of these images {trait['carries']}"
        if trait.get("estimated"):
            e = trait["estimated"]
            low, high = trait["ci95"]
            here = (
                f"about {here} (95 %: {pct(low)}-{pct(high)}; {e['header_failures']:,} found by the headers of every"
                f" file, {e['decode_failures']:,} in a full decode of {e['decoded']:,} of the {e['headers_whole']:,}"
                " whose headers are whole)"
            )
        if has_reference:
            # a risky trait the reference never shows is worth a line, significant or not
            new = name in RISKY and trait["count"] > 0 and trait["reference"]["count"] == 0
            if not new and not _significant(trait.get("difference"), 0.01):
                continue
            there = trait["reference"]["share"] or 0
            level = "warning" if name in RISKY and trait["difference"]["value"] > 0 else "info"
            text = f"{here}; the reference set {'has none' if there == 0 else pct(there)}"
            if trait["reference"].get("estimated"):
                text += " (estimated likewise)" if there else " (in its sample)"
        elif name in RISKY and trait["count"]:
            level = "warning" if name == "decode_failure" else "info"
            text = here
        else:
            continue
        out.append({"property": name, "level": level, "text": text})
    if not has_reference:
        return out
    for name, number in profile["numbers"].items():
        drift = number.get("drift")
        if drift is None or drift["psi"] < MODERATE_PSI or drift["psi"] <= drift["psi_noise95"]:
            continue
        major = drift["psi"] >= MAJOR_PSI
        unit = f" {number['unit']}" if number["unit"] in ("px", "MP", "bytes") else ""
        out.append(
            {
                "property": name,
                "level": "warning" if major else "info",
                "text": (
                    f"{name}: {_spread(number)}{unit} here, {_spread(number['reference'])}{unit} in the reference "
                    f"(PSI {drift['psi']:.2f}, {'major' if major else 'moderate'} shift)"
                ),
            }
        )
    for name in FLAGGED_CATEGORIES:
        category = profile["categories"].get(name)
        for value, entry in (category or {}).get("values", {}).items():
            if _significant(entry.get("difference"), 0.05):
                out.append(
                    {
                        "property": f"{name}={value}",
                        "level": "info",
                        "text": (
                            f"{name} {value}: {pct(entry['share'] or 0)} of these images, "
                            f"{pct(entry['reference']['share'] or 0)} of the reference set"
                        ),
                    }
                )
    return out


def _spread(d: dict[str, Any]) -> str:
    return f"median {_num(d['median'])} (5-95 %: {_num(d['p05'])}-{_num(d['p95'])})"


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
