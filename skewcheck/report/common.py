"""Wording and arithmetic shared by the Markdown, JUnit and HTML renderers, all on ``to_dict()`` data."""

from __future__ import annotations

import math
from typing import Any


def num(x: float | None, spec: str) -> str:
    """``format(x, spec)``, or "n/a" where the value is missing: NaN and Inf metrics are ``null`` in the data."""
    return "n/a" if x is None else format(x, spec)


def pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def evidence_text(evidence: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in evidence.items())


def failing_findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings the gate failed on, as the report decided them (``Report.fails_gate``)."""
    return [f for f in data["findings"] if f["fails_gate"]]


_SAID = ("answers", "accuracy", "gross-inputs")  # damage the headline says in words


def damage_words(data: dict[str, Any]) -> list[str]:
    """Why the gate failed, in words: the changed answers, the accuracy lost and the grossly changed
    inputs among the damage at or above the gate (contract breaks are findings, said with them)."""
    gate = data.get("gate_details") or {}
    failing = set(gate.get("reasons") or [])
    return [d["reason"] for d in gate.get("damage") or [] if d["reason"] in failing and d["rule"] in _SAID]


def headline(data: dict[str, Any]) -> str:
    """One sentence after the verdict: why it failed, or what passed."""
    if data["verdict"] == "error":
        return f"the audit could not run: {data.get('audit_error')}"
    gate = data.get("gate_details") or {}
    parts = damage_words(data)  # the damage that failed the run, in words, first
    parts.append(f"{len(failing_findings(data))} finding(s) at or above the gate '{data['gate']}'")
    if gate.get("max_flip_rate") is not None:
        rate, limit = gate.get("flip_rate"), gate["max_flip_rate"]
        over = "over" if "max-flip-rate" in gate.get("failed", []) else "within"
        parts.append(f"flip rate {pct(rate)} {over} --max-flip-rate {limit:g}")
    return "; ".join(parts + output_lines(data["summary"]))


def output_lines(summary: dict[str, Any]) -> list[str]:
    """How much the answer of each dense / embedding / detection output moved, in words
    (classification has its own top-1 agreement; see skewcheck.comparison.outputs)."""
    out = []
    for o in summary.get("outputs") or []:
        changed = f"{o.get('changed', 0)} of {o['images']} images changed"
        if o["kind"] == "dense":
            resized = f"; {o['resampled']['how']}" if o.get("resampled") else ""  # maps of other sizes, resized
            out.append(
                f"dense output {o['output']}: {pct(o['value'])} of pixels cross {o['threshold']:g}, "
                f"IoU {num(o['iou'], '.3f')}, mean |Δ| {num(o['mean_abs_diff'], '.3g')} ({changed}){resized}"
            )
        elif o["kind"] == "embedding":
            nn = o.get("nn_agreement")
            near = f", nearest neighbour agrees on {pct(nn)} of {o['nn_images']} images" if nn is not None else ""
            out.append(
                f"embedding output {o['output']}: mean cosine {num(o['value'], '.4f')} "
                f"(min {num(o['min_cosine'], '.4f')}){near} ({changed})"
            )
        elif o["kind"] == "detection":
            errors = f", post-process failed on {o['postprocess_errors']}" if o.get("postprocess_errors") else ""
            out.append(
                f"detections: {o['kept']} of {o['train_boxes']} boxes kept, {o['moved']} moved "
                f"({o['relabelled']} relabelled), {o['lost']} lost, {o['spurious']} spurious ({changed}{errors})"
            )
        elif o["kind"] == "landmarks":
            out.append(
                f"landmarks output {o['output']}: mean displacement {num(o['value'], '.3g')} "
                f"(max {num(o['max_displacement'], '.3g')}) {o['units']} ({changed} by more than {o['moved_above']:g})"
            )
        elif o["kind"] == "binary":
            out.append(f"binary output {o['output']}: {o['changed']} of {o['images']} images cross {o['threshold']:g}")
    return out


def heads_text(summary: dict[str, Any]) -> str | None:
    """Which output was judged as what, in words, when there is more than one output or
    something to say about them (skewcheck.comparison.heads)."""
    heads = summary.get("heads")
    if not heads or (len(heads["outputs"]) < 2 and not heads.get("notes")):
        return None
    parts = [
        f"{h['output']}{' ' + h['name'] if h['name'] else ''} ({h['shape']}) → {h['kind']}"
        + (f" ({h['how']})" if h["how"] != "inferred" else "")
        for h in heads["outputs"]
    ]
    notes = "".join(f"; {n}" for n in heads.get("notes", []))
    return "outputs judged: " + " · ".join(parts) + notes


def _answers(summary: dict[str, Any]) -> dict[str, Any] | None:
    """``summary.answer_changed`` when the run's task is not classification (no top-1 to flip)."""
    return summary.get("answer_changed") if summary.get("top1_agreement") is None else None


def facts(summary: dict[str, Any]) -> list[str]:
    """Short facts about the run: counts, agreement, accuracy."""
    out = [f"{summary['images']} images", f"{summary['compared']} compared"]
    if summary.get("top1_agreement") is not None:
        out.append(f"top-1 agreement {pct(summary['top1_agreement'])} ({summary['flips']} flips)")
    acc = summary.get("accuracy")
    if acc and acc.get("train") is not None and acc.get("serve") is not None:
        out.append(f"accuracy train {pct(acc['train'])} → serve {pct(acc['serve'])}")
    return out


def impact_text(finding: dict[str, Any], summary: dict[str, Any]) -> str:
    """What repairing this finding alone buys, in words (skewcheck.attribution measured it)."""
    imp = finding.get("impact")
    if imp is None:
        return "impact not measured: no repair undoes this cause on the tensors"
    sample = f"measured on {imp['sampled']} sampled images"
    answers = _answers(summary)
    if (
        imp.get("flips_recovered") is not None
        and answers
        and not answers["changed"]
        and imp.get("diff_explained") is not None
    ):
        return (
            f"no image's answer changed; fixing this removes {pct(imp['diff_explained'], 0)} of the tensor difference "
            f"on its images; {sample}"
        )
    if imp.get("flips_recovered") is not None and answers:
        images = answers["images"] or 1
        text = (
            f"fixing this brings back {imp['flips_recovered']} of {answers['changed']} images whose answer changed "
            f"(unchanged {pct(1 - answers['changed'] / images)} → {pct(imp.get('agreement_after_fix'))})"
        )
        return _with_side_effects(text, imp, "changes", sample)
    if imp.get("flips_recovered") is not None:
        text = f"fixing this recovers {imp['flips_recovered']} of {summary.get('flips', 0)} flips"
        acc_before, acc_after = imp.get("accuracy_before_fix"), imp.get("accuracy_after_fix")
        if acc_before is not None and acc_after is not None:
            text += f" (accuracy {pct(acc_before)} → {pct(acc_after)})"
        elif imp.get("agreement_after_fix") is not None:
            text += f" (agreement {pct(summary.get('top1_agreement'))} → {pct(imp['agreement_after_fix'])})"
        return _with_side_effects(text, imp, "causes", sample)
    if imp.get("diff_explained") is not None:
        return f"fixing this removes {pct(imp['diff_explained'], 0)} of the tensor difference on its images; {sample}"
    return f"{sample}: no measure applies"


def _with_side_effects(text: str, imp: dict[str, Any], caused: str, sample: str) -> str:
    """The flips a fix causes and the share of the tensor difference it removes, then the sample."""
    if imp.get("flips_caused"):
        text += f", and {caused} {imp['flips_caused']}"
    if imp.get("diff_explained") is not None:
        text += f"; removes {pct(imp['diff_explained'], 0)} of the tensor difference"
    return f"{text}; {sample}"


def after_fixes_text(summary: dict[str, Any]) -> str | None:
    """'after every fix: 99.6% agreement, 0.4% of the difference unexplained' (the residual)."""
    fixed = summary.get("after_all_fixes")
    if not fixed:
        return None
    parts = []
    if fixed.get("agreement") is not None:
        parts.append(f"{pct(fixed['agreement'])} " + ("of the answers unchanged" if _answers(summary) else "agreement"))
    if fixed.get("accuracy") is not None:
        parts.append(f"accuracy {pct(fixed['accuracy'])}")
    if fixed.get("diff_explained") is not None:
        parts.append(f"{pct(1 - fixed['diff_explained'])} of the tensor difference unexplained")
    if not parts:
        return None
    return f"after every fix: {', '.join(parts)} (on {fixed['sampled']} sampled images)"


def to_pass(data: dict[str, Any]) -> list[str]:
    """The loosest settings under which this run would pass: how far off it is."""
    gate = data.get("gate_details")
    if not gate or data["verdict"] == "error":
        return []
    need = gate["to_pass"]
    worst = data["findings"][0]["severity"] if data["findings"] else None
    out = [f"--fail-on {need['fail_on']}" + (f" (worst finding: {worst})" if worst else "")]
    if need.get("max_flip_rate") is not None:
        out.append(f"--max-flip-rate {_ceil(need['max_flip_rate'])} (flip rate now {pct(need['max_flip_rate'])})")
    if need.get("tensor_atol") is not None and data["summary"].get("compared"):
        out.append(f"tensors equal within --atol {_ceil(need['tensor_atol'])} (largest |Δ| of a compared pair)")
    return out


def to_pass_label(data: dict[str, Any]) -> str:
    return "minimum that would pass" if data["verdict"] == "fail" else "tightest settings that still pass"


def _ceil(x: float, digits: int = 3) -> str:
    """``x`` rounded UP to ``digits`` significant digits, so that passing it really passes."""
    if x <= 0:
        return f"{x:g}"
    step = 10.0 ** (math.floor(math.log10(x)) - digits + 1)
    return f"{math.ceil(round(x / step, 9)) * step:.{digits}g}"


def divergence_lines(d: dict[str, Any] | None) -> list[str]:
    """Where two declarative pipelines first part ways, and where their op lists differ (plain text)."""
    if not d:
        return []
    out = []
    if d.get("step") is not None:
        text = f"First divergent step: #{d['step']} {d['train_step']}"
        if d["serve_step"] != d["train_step"] or d.get("serve_index") != d["step"]:
            text += f" vs serve #{d['serve_index']} {d['serve_step']}"
        m = d.get("metric", {})
        if "shape" in m:
            text += f" · shape {m['shape']['train']} vs {m['shape']['serve']}"
        if "dtype" in m:
            text += f" · dtype {m['dtype']['train']} vs {m['dtype']['serve']}"
        if "max_abs_diff" in m:
            text += f" · max |Δ| {num(m['max_abs_diff'], '.4g')}, mean |Δ| {num(m['mean_abs_diff'], '.4g')}"
        for side, error in m.get("error", {}).items():
            text += f" · {side} failed: {error}"
        later = [
            f"#{b['step']} {b['train_step']} on {b['images']}" for b in d.get("by_step", []) if b["step"] != d["step"]
        ]
        others = f"; the others first differ at {', '.join(later)}" if later else ""
        out.append(text + f" ({d['images']} of {d['sampled']} sampled images{others})")
    elif d.get("sampled"):
        out.append(f"Step by step: no step diverges on the {d['sampled']} sampled images")
    ops = d.get("op_lists")
    if ops:
        out.append(
            f"Op lists differ at train #{ops['train_index']} / serve #{ops['serve_index']}: "
            f"train {', '.join(ops['train_steps']) or '(nothing)'} vs serve "
            f"{', '.join(ops['serve_steps']) or '(nothing)'}"
        )
    return out


def location_text(finding: dict[str, Any]) -> str | None:
    """Where a finding's cause first shows in two Python pipelines (skewcheck.trace), or None:
    'train `prep.py:14 img = ...` vs serve `service/pre.py:31 img = ...`: first difference here'."""
    where = finding.get("location")
    if not where:
        return None

    def line(side: dict[str, Any]) -> str:
        return f"`{side['file']}:{side['line']} {side['code']}`"

    traced = f" (traced on {where['image']})" if where.get("image") else ""
    return f"train {line(where['train'])} vs serve {line(where['serve'])}: first difference here{traced}"


def error_counts(summary: dict[str, Any]) -> list[str]:
    """'decode errors: train 0, serve 1' and the same for pipeline and model errors."""
    return [
        f"{label}: train {summary[key]['train']}, serve {summary[key]['serve']}"
        for key, label in (
            ("decode_errors", "decode errors"),
            ("pipeline_errors", "pipeline errors"),
            ("model_errors", "model errors"),
        )
    ]


def worst_image_cells(record: dict[str, Any]) -> tuple[str, str, str, str]:
    """A worst image's findings, top-1 flip, max |Δp| and mean |Δ tensor|, as the report tables show them."""
    m = record.get("metrics", {})
    dp = m.get("prediction", {}).get("max_abs_dp")
    dt = m.get("tensor", {}).get("mean_abs_diff")
    return (
        ", ".join(record["findings"]) or "-",
        "yes" if record["flipped"] else "no",
        "-" if dp is None else f"{dp:.3f}",
        "-" if dt is None else f"{dt:.4g}",
    )


def image_failures(record: dict[str, Any], failing_kinds: set[str]) -> list[str]:
    """The kinds on this image (a record names finding kinds) with a finding that failed the gate."""
    return [k for k in record.get("findings", []) if k in failing_kinds]


def image_group(record: dict[str, Any]) -> str:
    """Probe kind when the image is a probe, else its top folder."""
    probe = record.get("probe") or {}
    if probe.get("kind"):
        return str(probe["kind"])
    path = str(record["path"])
    return path.split("/", 1)[0] if "/" in path else "(top level)"


def class_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-class accuracy with its delta, worst drop first; classes without both numbers last."""
    rows = [dict(r) for r in summary.get("accuracy_per_class") or []]
    for r in rows:
        r["delta"] = None if r["train"] is None or r["serve"] is None else r["serve"] - r["train"]
    return sorted(rows, key=lambda r: (r["delta"] is None, r["delta"] or 0.0, str(r["name"])))


def side_status(side: dict[str, Any]) -> str:
    """'float32 32×32×3 [0, 1]' for a tensor, 'decode-error: …' otherwise."""
    if side.get("status") != "ok":
        err = side.get("error")
        return f"{side.get('status')}: {side.get('error_type') or ''} {err}".strip() if err else str(side.get("status"))
    shape = "×".join(str(d) for d in side.get("shape", []))
    text = f"{side.get('dtype', '?')} {shape}"
    if side.get("range"):
        lo, hi = side["range"]
        text += f" [{num(lo, '.4g')}, {num(hi, '.4g')}]"
    return text


def engine_text(summary: dict[str, Any], shown: int = 10) -> str | None:
    """With --engine ray, the images Ray retried or gave up on (None when there were none)."""
    engine = summary.get("engine") or {}
    parts = []
    for key, label in (
        ("retried", "retried by Ray after a lost worker"),
        ("lost", "lost (Ray gave up; recorded as RayTaskLost)"),
    ):
        names = engine.get(key) or []
        if names:
            more = f" and {len(names) - shown} more" if len(names) > shown else ""
            parts.append(f"{len(names)} image(s) {label}: {', '.join(names[:shown])}{more}")
    return " · ".join(parts) or None


def sample_text(summary: dict[str, Any]) -> str | None:
    """With --sample: how many images of how many, and the 95 % intervals of the main rates."""
    sample = summary.get("sample")
    if not sample:
        return None
    by = " and ".join(sample.get("stratified_by") or []) or "nothing (one stratum)"
    head = f"{sample['images']:,} of {sample['of']:,} images (seed {sample['seed']}, stratified by {by})"
    ci = sample.get("ci95") or {}
    parts = []
    for key, label in (("top1_agreement", "agreement"), ("flip_rate", "flip rate")):
        if ci.get(key):
            parts.append(f"{label} {_span(ci[key])}")
    for side, interval in (ci.get("accuracy") or {}).items():
        if interval:
            parts.append(f"{side} accuracy {_span(interval)}")
    for finding in (ci.get("findings") or [])[:5]:
        if finding.get("share"):
            parts.append(f"{finding['kind']} on {_span(finding['share'])} of images")
    return head + ("; 95% intervals: " + ", ".join(parts) if parts else "")


def _span(interval: list[float]) -> str:
    return f"{pct(interval[0])}–{pct(interval[1])}"
