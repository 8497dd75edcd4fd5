"""The audit's result as a value: findings, per-image records, summary, verdict and exit code."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from skewcheck.findings import Finding, Severity

SCHEMA = "skewcheck.report/v1"
GATES = ("critical", "major", "minor", "never")


def gate_threshold(gate: str) -> Severity | None:
    return None if gate == "never" else Severity.parse(gate)


@dataclass
class Report:
    gate: str
    model: dict[str, Any] | None
    pipelines: dict[str, dict[str, str]]
    summary: dict[str, Any]
    findings: list[Finding]
    images: list[dict[str, Any]]
    probe_matrix: dict[str, Any] = field(default_factory=dict)
    worst_images: list[dict[str, Any]] = field(default_factory=list)
    audit_error: str | None = None
    version: str = ""

    @property
    def failing_findings(self) -> list[Finding]:
        threshold = gate_threshold(self.gate)
        if threshold is None:
            return []
        return [f for f in self.findings if f.severity >= threshold]

    @property
    def exit_code(self) -> int:
        if self.audit_error is not None:
            return 3
        return 1 if self.failing_findings else 0

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    @property
    def verdict(self) -> str:
        return {0: "pass", 1: "fail", 3: "error"}[self.exit_code]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "skewcheck_version": self.version,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "gate": self.gate,
            "model": self.model,
            "pipelines": self.pipelines,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "probe_matrix": self.probe_matrix,
            "worst_images": self.worst_images,
            "images": self.images,
        }
        if self.audit_error is not None:
            out["audit_error"] = self.audit_error
        return _finite(out)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    """JSON has no Infinity/NaN: PSNR of identical tensors is written as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
