"""The augmentation audit's result as a value; ``to_dict()`` is the plain data every format renders.

JSON schema ``skewcheck.augment/v1``::

    {"schema": "skewcheck.augment/v1", "verdict": "fail", "exit_code": 1, "gate": "major",
     "model": {...}, "train": {"ref", "description"}, "augment": {"ref", "transforms"},
     "summary": {"images", "files", "pipeline_errors", "labelled", "task", "metric", "clean",
                 "value_range", "value_range_from", "seed", "confidence", "break_share",
                 "max_drop_points", "model_passes", "chunk_images", "chunks", "sample"?},
     "transforms": [{"name", "source", "builtin", "unit", "configured", "strengths", "safe",
                     "safe_max", "beyond", "error"?, "results": [{"strength", "images", "accuracy",
                     "consistency", "drop_points", "per_class", "pairs", ...}]}],
     "findings": [{"kind", "severity", "fails_gate", "transform", "strength", "explanation", "fix", ...}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skewcheck import __version__
from skewcheck.errors import ExitCode
from skewcheck.findings import Severity
from skewcheck.report.model import gate_threshold

SCHEMA = "skewcheck.augment/v1"
FORMATS = ("json", "markdown", "junit", "html")


@dataclass
class AugmentReport:
    gate: str
    model: dict[str, Any] | None
    train: dict[str, str]
    augment: dict[str, Any]
    summary: dict[str, Any]
    transforms: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    class_names: list[str] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def fails_gate(self, finding: dict[str, Any]) -> bool:
        threshold = gate_threshold(self.gate)
        return threshold is not None and Severity.parse(finding["severity"]) >= threshold

    @property
    def exit_code(self) -> int:
        return int(ExitCode.SKEW if any(self.fails_gate(f) for f in self.findings) else ExitCode.PASS)

    def to_dict(self) -> dict[str, Any]:
        code = self.exit_code
        return {
            "schema": SCHEMA,
            "version": __version__,
            "verdict": "fail" if code else "pass",
            "exit_code": code,
            "gate": self.gate,
            "model": self.model,
            "train": self.train,
            "augment": self.augment,
            "class_names": self.class_names,
            "summary": self.summary,
            "findings": [{**f, "fails_gate": self.fails_gate(f)} for f in self.findings],
            "transforms": self.transforms,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=_plain) + "\n"


def _plain(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON data")


def format_for(path: Path, explicit: str | None = None) -> str:
    from skewcheck.report.destination import report_format

    return report_format(path, FORMATS, explicit)


def render(report: AugmentReport, fmt: str) -> str:
    data = report.to_dict()
    if fmt == "json":
        return report.to_json()
    if fmt == "markdown":
        from skewcheck.augment.markdown import render_markdown

        return render_markdown(data)
    if fmt == "junit":
        from skewcheck.augment.junit import render_junit

        return render_junit(data)
    from skewcheck.augment.html import render_html

    return render_html(data)


def write(report: AugmentReport, path: Path, fmt: str | None = None) -> None:
    """Written as compare's reports are: atomically, or in place into a FIFO or /dev/fd/N."""
    from skewcheck.report.destination import write_report_file

    text = render(report, format_for(path, fmt))
    write_report_file(path, lambda out: out.write(text))
