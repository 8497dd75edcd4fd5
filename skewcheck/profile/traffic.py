"""``compare --traffic PROFILE.json``: each finding weighted by the share of production traffic
that carries its trigger.

A finding's **trigger** is what makes an image show that skew:

* by the finding's kind (``KIND_TRIGGERS``): EXIF orientation ≠ 1 for ``orientation``, an ICC
  profile other than sRGB for ``color-profile``, alpha for ``alpha``, a decode failure for
  ``decode-tolerance``, a size other than the model's input for ``resize``, another aspect ratio
  for ``crop`` and ``padding``, JPEG for ``jpeg-decoder``;
* else, when every audited image the finding covers is a probe of kinds that share one trait
  (``PROBE_TRAITS``: the CMYK probe for a ``pipeline-error`` on CMYK files), that trait;
* else every image (a channel order, a scale, a normalization touches all traffic).

``share`` is the trigger's share of the profiled files, with its 95 % Wilson interval. Where a
model ran, ``flip_rate`` is the share of the finding's audited images whose prediction flipped,
and ``weighted`` = share × flip_rate estimates the share of production predictions it changes;
without a model, ``weighted`` is the share of production images it touches. The findings are then
ranked by ``weighted`` (the audit's order breaks ties), and ``--fail-on-traffic-share X`` fails the
gate when a finding's ``weighted`` exceeds X.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from skewcheck.comparison.intervals import wilson
from skewcheck.errors import UsageError, one_line
from skewcheck.profile.flags import pct
from skewcheck.profile.model import READABLE, SCHEMA

ASPECT_TOLERANCE = 0.01  # relative: 224x224 and 225x224 have "the model's aspect"

# finding kind → (trigger, how a sentence names it); "size" and "aspect" are read from the sizes
KIND_TRIGGERS: dict[str, tuple[str, str]] = {
    "orientation": ("exif_rotated", "carry EXIF orientation ≠ 1"),
    "color-profile": ("icc_not_srgb", "embed an ICC profile other than sRGB"),
    "alpha": ("alpha", "have an alpha channel or transparency"),
    "decode-tolerance": ("decode_failure", "fail to decode (truncated or corrupt)"),
    "resize": ("size", "differ in size from the model's input"),
    "crop": ("aspect", "differ in aspect ratio from the model's input"),
    "padding": ("aspect", "differ in aspect ratio from the model's input"),
    "jpeg-decoder": ("jpeg", "are JPEGs"),
}
PROBE_TRAITS = {  # probe kind (prefix) → the trait a production file shares with it
    "exif-orientation-": "exif_rotated",
    "icc-": "icc_not_srgb",
    "cmyk-jpeg": "cmyk",
    "rgba": "alpha",
    "alpha-sentinel": "alpha",
    "palette-transparency": "alpha",
    "truncated-": "truncated",
    "corrupt-": "decode_failure",
    "png-as-jpg": "decode_failure",
    "empty-file": "decode_failure",
    "text-as-jpg": "decode_failure",
    "grayscale": "grayscale",
    "png-16bit": "high_bit_depth",
    "gif-multiframe": "animated",
}


def load_profile(path: str | Path) -> dict[str, Any]:
    """A profile JSON (``skewcheck.profile/v2``, or v1: the two differ in pixel statistics only,
    which this does not read), its ``files`` dropped; a usage error otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--traffic {path}: cannot read a profile JSON ({one_line(exc)})") from None
    if not isinstance(data, dict) or data.get("schema") not in READABLE:
        raise UsageError(f"--traffic {path}: not a {SCHEMA} profile (write one with skewcheck profile --report p.json)")
    data.pop("files", None)
    return data


def model_size(model: dict[str, Any] | None, records: Any) -> tuple[int, int] | None:
    """(height, width) the model takes: its input signature, else the train tensors' usual shape."""
    shape = ((model or {}).get("input") or {}).get("shape")
    if not shape or None in shape[-3:]:
        counts: dict[tuple[int, ...], int] = {}
        for record in records:
            found = (record.get("train") or {}).get("shape")
            if found:
                key = tuple(int(v) for v in found)
                counts[key] = counts.get(key, 0) + 1
        usual = sorted(counts.items(), key=lambda kv: -kv[1])[0][0] if counts else None
        shape = list(usual) if usual is not None else None
    if not shape or len(shape) < 3 or any(not isinstance(v, int) for v in shape[-3:]):
        return None
    *_, a, b, c = shape
    return (b, c) if a in (1, 3, 4) and c not in (1, 3, 4) else (a, b)  # CHW, else HWC


def _share_of_sizes(sizes: dict[str, int], rule: Any) -> int:
    count = 0
    for key, n in sizes.items():
        w, _, h = key.partition("x")
        if rule(int(w), int(h)):
            count += n
    return count


def _trigger_count(trigger: str, profile: dict[str, Any], size: tuple[int, int] | None) -> int | None:
    files = profile["images"]["files"]
    if trigger == "all":
        return files
    if trigger == "jpeg":
        return profile["categories"].get("format", {}).get("values", {}).get("JPEG", {}).get("count", 0)
    if trigger in ("size", "aspect"):
        if size is None:
            return None
        h, w = size
        if trigger == "size":
            return _share_of_sizes(profile["sizes"], lambda x, y: (x, y) != (w, h))
        return _share_of_sizes(profile["sizes"], lambda x, y: abs((x / y) / (w / h) - 1) > ASPECT_TOLERANCE)
    trait = profile["traits"].get(trigger)
    return None if trait is None else int(trait["count"])


def _probe_triggers(records: Any) -> dict[str, set[str | None]]:
    """finding kind → the traits of the probe kinds of its audited images (None: no trait)."""
    out: dict[str, set[str | None]] = {}
    for record in records:
        kind = (record.get("probe") or {}).get("kind")
        trait = next((t for prefix, t in PROBE_TRAITS.items() if kind and kind.startswith(prefix)), None)
        for finding in record.get("findings") or ():
            out.setdefault(finding, set()).add(trait)
    return out


def traffic_weights(
    findings: list[dict[str, Any]],
    profile: dict[str, Any],
    size: tuple[int, int] | None,
    records: Any = (),
    predicted: bool = True,
) -> list[dict[str, Any]]:
    """One ``traffic`` dict per finding (``Finding.to_dict()`` items), in their order; ``size`` is
    the model's (height, width), ``records`` the audit's per-image records, ``predicted`` whether a
    model ran (flip rates are then measured)."""
    from skewcheck.profile.properties import TRAITS

    by_probe = _probe_triggers(records)
    files = profile["images"]["files"]
    out = []
    for f in findings:
        trigger, carries = KIND_TRIGGERS.get(f["kind"], ("all", ""))
        if trigger == "all":
            traits = by_probe.get(f["kind"], set())
            if len(traits) == 1 and None not in traits:
                trigger = next(iter(traits))  # type: ignore[assignment]
                carries = TRAITS[trigger][0]
        count = _trigger_count(trigger, profile, size)
        entry: dict[str, Any] = {"trigger": trigger}
        if count is None:
            entry.update(
                share=None, weighted=None, sentence=f"{f['kind']}: traffic share unknown (model input size unknown)"
            )
            out.append(entry)
            continue
        interval = wilson(count, files)
        share = count / files if files else 0.0
        trait = profile["traits"].get(trigger) or {}
        if trait.get("estimated") and trait.get("share") is not None:
            # decode failures beyond the headers are known on the pixel sample: its extrapolated share
            share, interval = trait["share"], (trait["ci95"][0], trait["ci95"][1])
        flip_rate = f["flips_on_images"] / f["images"] if f.get("images") and predicted else None
        weighted = share * flip_rate if flip_rate is not None else share
        who = "every production image" if trigger == "all" else f"{pct(share)} of production images {carries}"
        sentence = f"{f['kind']}: {who}"
        if flip_rate is not None:
            sentence += (
                f"; on its {f['images']} audited images {pct(flip_rate)} of predictions flip"
                f" → about {pct(weighted)} of production predictions"
            )
        entry.update(
            count=count,
            files=files,
            share=round(share, 6),
            ci95=[round(interval[0], 6), round(interval[1], 6)] if interval else None,
            flip_rate=None if flip_rate is None else round(flip_rate, 6),
            weighted=round(weighted, 6),
            basis="predictions" if flip_rate is not None else "images",
            sentence=sentence,
        )
        out.append(entry)
    return out


def apply_traffic(report: Any, profile: dict[str, Any], max_share: float | None = None) -> None:
    """Weight ``report``'s findings by ``profile`` (each finding's ``traffic``), rank them by it,
    and set the ``--fail-on-traffic-share`` gate. Called once, at the end of ``api.compare``."""
    predicted = bool(report.summary.get("predicted"))
    records = report.images
    size = model_size(report.model, records)
    weights = traffic_weights([f.to_dict() for f in report.findings], profile, size, records, predicted)
    for finding, traffic in zip(report.findings, weights, strict=True):
        finding.traffic = traffic
    order = sorted(
        range(len(report.findings)),
        key=lambda i: (-(weights[i]["weighted"] if weights[i]["weighted"] is not None else -1.0), i),
    )
    report.findings = [report.findings[i] for i in order]
    report.max_traffic_share = max_share
    report.summary["traffic"] = {
        "profile": profile["images"]["source"],
        "files": profile["images"]["files"],
        "model_size": list(size) if size else None,
        "max_share": max_share,
    }
