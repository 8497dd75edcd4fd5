"""JUnit XML for CI test reporters, rendered from ``Report.to_dict()``.

One test suite per probe kind (per top image folder when the images carry no probe metadata), one
test case per image. An image fails when it carries a finding kind whose merged finding is at or
above the gate; an image neither pipeline could turn into a tensor is skipped (unless it is a
probe that should be rejected: then refusing it is the pass). Gates that are not about one image
(``--max-flip-rate``) and an audit that could not run get a suite of their own, so the job's red
status always has a red test case behind it. ElementTree escapes every attribute and text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from skewcheck.report.common import (
    evidence_text,
    failing_findings,
    image_failures,
    image_group,
    num,
    pct,
    side_status,
)


def render_junit(data: dict[str, Any]) -> str:
    root = ET.Element("testsuites", name="skewcheck")
    failing_kinds = {f["kind"] for f in failing_findings(data)}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in data["images"]:
        groups[image_group(record)].append(record)
    for name in sorted(groups):
        suite = _suite(root, name)
        for record in groups[name]:
            _image_case(suite, record, data, failing_kinds)
    gate = data.get("gate_details") or {}
    unfound = bool(gate.get("reasons")) and not failing_kinds  # failed on damage no image case shows
    if data["verdict"] == "error" or gate.get("max_flip_rate") is not None or unfound:
        _gate_suite(root, data, gate, unfound)
    for suite in root:
        _count(suite)
    _count(root)
    _xml_safe(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(root: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(root, "testsuite", name=name)


def _image_case(suite: ET.Element, record: dict[str, Any], data: dict[str, Any], failing_kinds: set[str]) -> None:
    seconds = sum(record.get(side, {}).get("seconds", 0.0) or 0.0 for side in ("train", "serve"))
    case = ET.SubElement(
        suite, "testcase", classname=f"skewcheck.{suite.get('name')}", name=record["path"], time=f"{seconds:.6f}"
    )
    failing = image_failures(record, failing_kinds)
    if failing:
        findings = [f for f in failing_findings(data) if f["kind"] in failing]
        message = "; ".join(f"{f['severity']} {f['kind']} ({f['side'] or '-'})" for f in findings)
        failure = ET.SubElement(case, "failure", message=message, type=",".join(f["kind"] for f in findings))
        failure.text = "\n\n".join(_finding_text(f) for f in findings) + "\n\n" + _image_text(record)
        return
    train, serve = record.get("train", {}), record.get("serve", {})
    rejected = (record.get("probe") or {}).get("expect") == "reject"
    if train.get("status") != "ok" and serve.get("status") != "ok" and not rejected:
        ET.SubElement(
            case, "skipped", message=f"no tensor to compare: train {train.get('status')}, serve {serve.get('status')}"
        )
    if record.get("findings"):  # below the gate: visible in the log, not a failure
        out = ET.SubElement(case, "system-out")
        out.text = "findings below the gate: " + ", ".join(record["findings"]) + "\n" + _image_text(record)


def _finding_text(f: dict[str, Any]) -> str:
    lines = [
        f"[{f['severity']}] {f['kind']} (side: {f['side'] or '-'}; {f['images']} images, {f['flips']} flips)",
        f["explanation"],
    ]
    if f["evidence"]:
        lines.append(f"evidence: {evidence_text(f['evidence'])}")
    lines.append(f"fix: {f['fix']}")
    return "\n".join(lines)


def _image_text(record: dict[str, Any]) -> str:
    lines = [f"train: {side_status(record.get('train', {}))}", f"serve: {side_status(record.get('serve', {}))}"]
    metrics = record.get("metrics", {})
    if "tensor" in metrics:
        t = metrics["tensor"]
        lines.append(
            f"tensor: max |diff| {num(t['max_abs_diff'], '.4g')}, mean |diff| {num(t['mean_abs_diff'], '.4g')}"
        )
    if "prediction" in metrics:
        p = metrics["prediction"]
        lines.append(
            f"prediction: top-1 train {p['top1']['train']} → serve {p['top1']['serve']}, "
            f"max |dp| {num(p['max_abs_dp'], '.3f')}"
        )
    if "label" in record:
        lines.append(f"label: {record['label']}")
    return "\n".join(lines)


def _gate_suite(root: ET.Element, data: dict[str, Any], gate: dict[str, Any], unfound: bool) -> None:
    suite = _suite(root, "skewcheck gate")
    if data["verdict"] == "error":
        case = ET.SubElement(suite, "testcase", classname="skewcheck.gate", name="audit")
        ET.SubElement(case, "error", message=str(data.get("audit_error")), type="audit-error")
    if unfound:  # the run failed on damage (flips, gross inputs) while no finding reaches the gate
        case = ET.SubElement(suite, "testcase", classname="skewcheck.gate", name="damage")
        ET.SubElement(case, "failure", type="damage", message="; ".join(gate["reasons"]))
    if gate.get("max_flip_rate") is not None:
        limit, rate = gate["max_flip_rate"], gate.get("flip_rate")
        case = ET.SubElement(suite, "testcase", classname="skewcheck.gate", name=f"max-flip-rate {limit:g}")
        if "max-flip-rate" in gate.get("failed", []):
            s = data["summary"]
            ET.SubElement(
                case,
                "failure",
                type="max-flip-rate",
                message=f"flip rate {pct(rate)} ({s['flips']}/{s['predicted']}) > {limit:g}",
            )


# Characters XML 1.0 cannot carry at all, even escaped; Linux file names and messages may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(root: ET.Element) -> None:
    """Write such characters as visible ``\\xNN`` so the file still parses."""

    def fix(text: str) -> str:
        return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)

    for element in root.iter():
        if element.text:
            element.text = fix(element.text)
        for name, value in list(element.attrib.items()):
            element.set(name, fix(value))


def _count(element: ET.Element) -> None:
    cases = list(element.iter("testcase"))
    element.set("tests", str(len(cases)))
    for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        element.set(attr, str(sum(1 for c in cases if c.find(tag) is not None)))
    element.set("time", f"{sum(float(c.get('time', 0)) for c in cases):.6f}")
