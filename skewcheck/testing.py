"""pytest helpers: put the skew audit in a project's own test suite.

from skewcheck.testing import assert_no_skew

def test_serving_matches_training():
    assert_no_skew(model="model.keras", train="train.py:preprocess", serve="service.preprocess:load",
                   images="tests/images", max_flip_rate=0.0)
"""

from __future__ import annotations

from typing import Any

from skewcheck.api import PipelineRef, compare
from skewcheck.report.common import damage_words, to_pass
from skewcheck.report.model import Report

__all__ = ["assert_no_skew", "skew_message"]


def assert_no_skew(
    *, model: Any = "none", train: PipelineRef, serve: PipelineRef, images: Any = None, **options: Any
) -> Report:
    """Run :func:`skewcheck.compare` (same keywords; ``images`` defaults to the built-in probe set)
    and raise ``AssertionError`` listing the ranked findings when the gate fails. Returns the report."""
    __tracebackhide__ = True  # pytest: show the assertion, not this helper's frames
    report = compare(model=model, train=train, serve=serve, images=images, **options)
    if not report.passed:
        raise AssertionError(skew_message(report))
    return report


def skew_message(report: Report) -> str:
    """The failure text: a verdict line, then one line per ranked finding (most important first)."""
    data = report.to_dict()
    if data["verdict"] == "error":
        return f"skewcheck: the audit could not run: {data.get('audit_error')}"
    gate = data["gate_details"]
    failing = report.failing_findings
    head = f"skewcheck found training-serving skew: {len(failing)} finding(s) at or above --fail-on {report.gate}"
    for reason in damage_words(data):
        head += f"; {reason}"
    if "max-flip-rate" in gate["failed"]:
        head += f"; flip rate {gate['flip_rate']:.4g} > --max-flip-rate {gate['max_flip_rate']:g}"
    lines = [head + f" ({data['summary']['images']} images)"]
    for i, f in enumerate(report.findings, 1):
        below = "" if f in failing else ", below the gate"
        lines.append(
            f"  {i}. [{f.severity.label}{below}] {f.kind} (side: {f.side or '-'}; {f.images} images, "
            f"{f.flips} flips): {f.explanation} Fix: {f.fix}"
        )
    needed = to_pass(data)
    if needed:
        lines.append("  minimum that would pass: " + "; ".join(needed))
    return "\n".join(lines)
