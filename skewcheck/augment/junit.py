"""The augmentation report as JUnit XML: one test suite per transform, one test case per strength
tried; a case fails when a finding at or above the gate names that transform at that strength."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from skewcheck.augment.findings import strength_text
from skewcheck.augment.wording import metric_at, what


def render_junit(data: dict[str, Any]) -> str:
    root = ET.Element("testsuites", name="skewcheck augment")
    metric = data["summary"]["metric"]
    total = failed = 0
    for t in data["transforms"]:
        suite = ET.SubElement(root, "testsuite", name=t["name"])
        cases = fails = 0
        for r in t["results"]:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"skewcheck.augment.{t['name']}",
                name=f"strength {strength_text(r['strength'])}",
            )
            cases += 1
            hits = [
                f
                for f in data["findings"]
                if f["fails_gate"]
                and f["transform"] == t["name"]
                and r["strength"] in (f.get("strengths") or [f.get("strength")])
            ]
            if hits:
                fails += 1
                failure = ET.SubElement(case, "failure", message="; ".join(f"{f['kind']}: {what(f)}" for f in hits))
                failure.text = "\n".join(f["explanation"] for f in hits)
            ET.SubElement(case, "system-out").text = metric_at(r, metric)
        suite.set("tests", str(cases))
        suite.set("failures", str(fails))
        total, failed = total + cases, failed + fails
    root.set("tests", str(total))
    root.set("failures", str(failed))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
