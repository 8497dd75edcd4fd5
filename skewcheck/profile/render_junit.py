"""The profile as JUnit XML: one test case per flagged property, failed for a ``warning`` flag,
and one for the decode failures; a CI system shows what production sends next to the tests."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from skewcheck.profile.rows import headline


def render_junit(data: dict[str, Any]) -> str:
    flags = data["flags"]
    failures = [f for f in flags if f["level"] == "warning"]
    suite = ET.Element(
        "testsuite",
        name="skewcheck.profile",
        tests=str(len(flags) + 1),
        failures=str(len(failures) + (1 if data["failures"]["count"] else 0)),
    )
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="headline", value=headline(data))
    for flag in flags:
        case = ET.SubElement(suite, "testcase", classname="profile.flags", name=flag["property"])
        if flag["level"] == "warning":
            ET.SubElement(case, "failure", message=flag["text"])
        else:
            ET.SubElement(case, "system-out").text = flag["text"]
    case = ET.SubElement(suite, "testcase", classname="profile", name="decode")
    count = data["failures"]["count"]
    if count:
        listed = "\n".join(f"{f['path']}: {f['status']}: {f['error']}" for f in data["failures"]["listed"])
        ET.SubElement(case, "failure", message=f"{count} file(s) fail to decode").text = listed
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
