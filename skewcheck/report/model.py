"""The audit's result as a value: findings, per-image records, summary, verdict and exit code."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from skewcheck.attribution.damage import Damage
from skewcheck.errors import ExitCode
from skewcheck.findings import Finding, Severity
from skewcheck.report.thumbnails import example_key

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self is 3.11+; this module runs on 3.10 too

SCHEMA = "skewcheck.report/v1"
GATES = ("critical", "major", "minor", "never")


def gate_threshold(gate: str) -> Severity | None:
    return None if gate == "never" else Severity.parse(gate)


def strictest_passing_gate(worst: Severity | None) -> str:
    """The strictest --fail-on that findings of severity ``worst`` (at most) would pass."""
    if worst is None or worst == Severity.INFO:
        return "minor"
    return {Severity.MINOR: "major", Severity.MAJOR: "critical"}.get(worst, "never")


@dataclass
class Report:
    gate: str
    model: dict[str, Any] | None
    pipelines: dict[str, dict[str, Any]]  # side → ref, description, source (file, line) where known
    summary: dict[str, Any]
    findings: list[Finding]
    images: Sequence[dict[str, Any]]  # a list, or the audit's RecordFile: records read from disk lazily
    probe_matrix: dict[str, Any] = field(default_factory=dict)
    worst_images: list[dict[str, Any]] = field(default_factory=list)
    audit_error: str | None = None
    version: str = ""
    max_flip_rate: float | None = None  # gate: fail when flips / predicted exceeds it
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # finding key → thumbnails
    divergence: dict[str, Any] | None = None  # first divergent step, when both pipelines are declarative
    damage: list[Damage] = field(default_factory=list)  # what the run broke, whatever the diagnosis says
    images_root: str | None = None  # the --images folder or URI: image paths in the report are relative to it
    max_traffic_share: float | None = None  # gate (compare --traffic): fail when a finding's weighted share exceeds it
    line_trace: dict[str, Any] | None = None  # the images traced line by line, when both pipelines are callables

    @property
    def failing_damage(self) -> list[Damage]:
        threshold = gate_threshold(self.gate)
        return [d for d in self.damage if threshold is not None and d.severity >= threshold]

    def fails_gate(self, finding: Finding) -> bool:
        """The gate's rule, in one place: renderers read the ``fails_gate`` it writes into each finding."""
        threshold = gate_threshold(self.gate)
        return threshold is not None and finding.severity >= threshold

    @property
    def failing_findings(self) -> list[Finding]:
        return [f for f in self.findings if self.fails_gate(f)]

    @property
    def flip_rate(self) -> float | None:
        predicted = self.summary.get("predicted") or 0
        return self.summary.get("flips", 0) / predicted if predicted else None

    @property
    def flip_rate_failed(self) -> bool:
        rate = self.flip_rate
        return self.max_flip_rate is not None and rate is not None and rate > self.max_flip_rate

    @property
    def traffic_share_failed(self) -> bool:
        """A finding weighs more of production traffic than ``--fail-on-traffic-share`` allows."""
        limit = self.max_traffic_share
        return limit is not None and any(
            (f.traffic or {}).get("weighted") is not None and f.traffic["weighted"] > limit  # type: ignore[index]
            for f in self.findings
        )

    @property
    def exit_code(self) -> int:
        if self.audit_error is not None:
            return int(ExitCode.AUDIT)
        failed = self.failing_findings or self.failing_damage or self.flip_rate_failed or self.traffic_share_failed
        return int(ExitCode.SKEW if failed else ExitCode.PASS)

    @property
    def passed(self) -> bool:
        return self.exit_code == ExitCode.PASS

    @property
    def verdict(self) -> str:
        return {ExitCode.PASS: "pass", ExitCode.SKEW: "fail", ExitCode.AUDIT: "error"}[ExitCode(self.exit_code)]

    def gate_details(self) -> dict[str, Any]:
        """Which gates failed, and the loosest settings that would pass: how far off this run is."""
        worst = max([f.severity for f in self.findings] + [d.severity for d in self.damage], default=None)
        on_gate = self.failing_findings or self.failing_damage
        failed = (["fail-on"] if on_gate else []) + (["max-flip-rate"] if self.flip_rate_failed else [])
        failed += ["fail-on-traffic-share"] if self.traffic_share_failed else []
        rate = self.flip_rate
        return {
            "fail_on": self.gate,
            "failing_findings": len(self.failing_findings),
            "max_flip_rate": self.max_flip_rate,
            "flip_rate": None if rate is None else round(rate, 6),
            "failed": failed,
            "reasons": [d.reason for d in self.failing_damage],
            "damage": [d.to_dict() for d in self.damage],
            "to_pass": {
                "fail_on": strictest_passing_gate(worst),
                "max_flip_rate": None if rate is None else math.ceil(rate * 1e6) / 1e6,  # rounded up: it passes
                "tensor_atol": self.summary.get("min_atol_to_pass"),
            },
        }

    def to_dict(self, thumbnails: bool = False, lazy_images: bool = False) -> dict[str, Any]:
        """The plain data every renderer reads. ``thumbnails`` adds each finding's example images
        (base64 PNGs, for the HTML report) under the finding's ``thumbnails`` key. ``lazy_images``
        gives ``images`` as a sequence read from disk record by record (what the renderers
        iterate) instead of a list of them all."""
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "skewcheck_version": self.version,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "gate": self.gate,
            "model": self.model,
            "pipelines": self.pipelines,
            "summary": self.summary,
            "gate_details": self.gate_details(),
            "findings": [self._finding_dict(f, thumbnails) for f in self.findings],
            "probe_matrix": self.probe_matrix,
            "worst_images": self.worst_images,
            "images": _FiniteRecords(self.images) if lazy_images else list(self.images),
        }
        if self.images_root is not None:
            out["images_root"] = self.images_root
        if self.divergence is not None:
            out["divergence"] = self.divergence
        if self.line_trace is not None:
            out["line_trace"] = self.line_trace
        if self.audit_error is not None:
            out["audit_error"] = self.audit_error
        return _finite(out)

    def close(self) -> None:
        """Delete the per-image records' temporary file (``report.images`` is empty after this)."""
        close = getattr(self.images, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _finding_dict(self, finding: Finding, thumbnails: bool) -> dict[str, Any]:
        out = finding.to_dict()
        out["fails_gate"] = self.fails_gate(finding)
        if thumbnails:
            out["thumbnails"] = self.examples.get(example_key(finding.key), []) if finding.key else []
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return "".join(self.iter_json(indent))

    def write_json(self, out: IO[str], indent: int | None = 2) -> None:
        """The JSON report, written piece by piece: the images are streamed, never all in memory."""
        for piece in self.iter_json(indent):
            out.write(piece)

    def iter_json(self, indent: int | None = 2) -> Iterator[str]:
        """The text of ``json.dumps(self.to_dict(), indent=indent)`` in pieces, one per image record."""
        data = self.to_dict(lazy_images=True)
        images = data["images"]
        data["images"] = _IMAGES_MARK
        head, sep, tail = json.dumps(data, indent=indent, allow_nan=False).partition(json.dumps(_IMAGES_MARK))
        assert sep, "the images placeholder is in the report"
        yield head
        if indent is None:
            item_sep, open_, close = ", ", "[", "]"
            pad = ""
        else:
            pad = "\n" + " " * (2 * indent)  # items of a top-level array sit two levels deep
            item_sep, open_, close = ",", "[", "\n" + " " * indent + "]"
        first = True
        for record in images:
            text = json.dumps(_finite(record), indent=indent, allow_nan=False)
            yield (open_ if first else item_sep) + (pad + text.replace("\n", pad) if indent is not None else text)
            first = False
        yield "[]" if first else close
        yield tail + "\n"

    def to_markdown(self) -> str:
        from skewcheck.report.markdown import render_markdown

        return render_markdown(self.to_dict(lazy_images=True))

    def to_junit(self) -> str:
        from skewcheck.report.junit import render_junit

        return render_junit(self.to_dict(lazy_images=True))

    def to_sarif(self) -> str:
        from skewcheck.report.sarif import render_sarif

        return render_sarif(self.to_dict(lazy_images=True))

    def to_html(self) -> str:
        from skewcheck.report.html import render_html

        return render_html(self.to_dict(thumbnails=True, lazy_images=True))


_IMAGES_MARK = "\u0000skewcheck:images\u0000"  # stands for the images array while the rest is dumped


class _FiniteRecords(Sequence[dict[str, Any]]):
    """The records as ``to_dict()`` gives them (NaN/Infinity as None), read lazily."""

    def __init__(self, records: Sequence[dict[str, Any]]) -> None:
        self._records = records

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (_finite(r) for r in self._records)

    def __getitem__(self, index):
        return _finite(self._records[index])


def _finite(value: Any) -> Any:
    """JSON has no Infinity/NaN: PSNR of identical tensors is written as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
