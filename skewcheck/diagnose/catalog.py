"""The finding catalogue, written from the detectors' own docstrings (as sqlfluff does for rules).

``python -m skewcheck.diagnose.catalog > docs/findings.md`` regenerates the page; a test checks
that the committed page is current and covers every finding kind.
"""

from __future__ import annotations

import re
import sys

from skewcheck.diagnose import DETECTORS

_SECTION = re.compile(r"^(Cause|Evidence|Fix):\s*", re.MULTILINE)

HEADER = """# Findings

Every finding skewcheck reports has a stable `kind` (used in the JSON report and in tests), a
severity, the side it blames, the images it covers, the prediction flips credited to it, the fitted
evidence, a one-sentence explanation, a fix and its measured `impact`. This page is generated from
the detectors' docstrings and the grading rule's (`python -m skewcheck.diagnose.catalog >
docs/findings.md`).

## Does the run fail?

{gate}
### Where the gross threshold sits

{calibration}
## What fixing each finding buys

{attribution}
## Severity and ranking

{grading}
| kind | detector |
|---|---|
"""


def _body(doc: str | None) -> str:
    """A module docstring without its summary line, as Markdown paragraphs."""
    return (doc or "").strip().split("\n", 1)[-1].strip() + "\n"


def sections(doc: str) -> tuple[str, dict[str, str]]:
    """Split a detector docstring into its summary line and its Cause / Evidence / Fix parts."""
    text = " ".join(line.strip() for line in doc.strip().splitlines())
    parts = _SECTION.split(
        text.replace(" Cause:", "\nCause:").replace(" Evidence:", "\nEvidence:").replace(" Fix:", "\nFix:")
    )
    summary = parts[0].strip()
    named = {parts[i]: " ".join(parts[i + 1].split()) for i in range(1, len(parts) - 1, 2)}
    return summary, named


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def kind_docs() -> dict[str, dict[str, str]]:
    """Each finding kind's text as docs/findings.md gives it: ``summary`` and, where the detector
    says them, ``Cause`` / ``Evidence`` / ``Fix``. A kind that several detectors emit (``scale``
    against the other side or against the model) takes the text of the detector named after it."""
    docs: dict[str, dict[str, str]] = {}
    primary = sorted(DETECTORS, key=lambda d: d.name.replace("_", "-") not in d.spec.kinds and d.name != "shape_layout")
    for detector in primary:
        summary, named = sections(detector.doc)
        meaning = summary.partition(":")[2].strip() or summary
        for kind in detector.spec.kinds:
            docs.setdefault(kind, {"summary": _capital(meaning), "detector": detector.name, **named})
    return docs


def render() -> str:
    rows, bodies = [], []
    for detector in DETECTORS:
        summary, named = sections(detector.doc)
        title, _, meaning = summary.partition(":")
        path = detector.detect.__module__.replace(".", "/") + ".py"  # where the detector's module is
        rows.append(f"| {title} | `{path}` |")
        body = [f"## {title}", "", _capital(meaning.strip() or summary), ""]
        for label in ("Cause", "Evidence", "Fix"):
            if label in named:
                body += [f"**{label}.** {_capital(named[label])}", ""]
        bodies.append("\n".join(body))
    from skewcheck import attribution
    from skewcheck.attribution import damage, grade

    header = HEADER.format(
        gate=_body(damage.__doc__),
        calibration=_calibration(),
        attribution=_body(attribution.__doc__),
        grading=_body(grade.__doc__),
    )
    return header + "\n".join(rows) + "\n\n" + "\n".join(bodies)


def _calibration() -> str:
    """The measured distribution of the input distance (``scripts/gate_calibration.py`` writes it)."""
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "gate-calibration.md"
    if not page.exists():  # an installed package without the repository's docs
        return "See docs/gate-calibration.md in the repository.\n"
    return "".join(line for line in page.read_text().splitlines(keepends=True) if not line.startswith("<!--"))


if __name__ == "__main__":
    sys.stdout.write(render())
