"""One frozen, validated configuration of a ``compare`` audit, built once: from the command line
(its configuration file's values merged in), or from ``skewcheck.compare``'s flat keywords.

    config = AuditConfig.from_keywords(train="a.py:f", serve="b.py:f", fail_on="minor")
    config.gate.fail_on, config.model.none, config.execution.workers

Each group checks its own values when it is built, :class:`AuditConfig` the rules between the
groups: a usage problem is one :class:`~skewcheck.errors.UsageError` line (exit 2 on the command
line), raised before any image is read. Loading what the values name (the model, the pipelines,
the traffic profile, a Ray cluster) is the audit's job (skewcheck/api.py). The groups are the
panels of ``skewcheck compare --help`` (skewcheck.config.options.PANELS).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skewcheck.comparison.heads import OutputChoice
from skewcheck.comparison.outputs import check_task
from skewcheck.errors import UsageError, one_line
from skewcheck.models._common import check_device_name
from skewcheck.no_model import is_no_model
from skewcheck.pipelines.outcome import DEFAULT_MAX_TENSOR_MB
from skewcheck.report.model import GATES
from skewcheck.worker_count import AUTO

if TYPE_CHECKING:
    from skewcheck.serving.endpoint import Endpoint

PipelineRef = str | Callable[..., Any]


def check_seconds(flag: str, seconds: float | None) -> None:
    """A time limit is a positive, finite number of seconds: nan and inf set no deadline at all."""
    if seconds is not None and not 0 < seconds < math.inf:
        raise UsageError(f"{flag} must be a positive, finite number of seconds, got {seconds}")


@dataclass(frozen=True)
class PipelineSettings:
    train: PipelineRef
    serve: PipelineRef  # a pipeline, or a live endpoint URL


@dataclass(frozen=True)
class ModelSettings:
    ref: Any = "none"  # a path or reference, an already loaded runner, or "none"
    device: str = "auto"
    unsafe_load: bool = False
    batch_size: int = 32
    task: str | None = None
    threshold: float = 0.5
    postprocess: str | Callable[..., Any] | None = None
    outputs: tuple[OutputChoice, ...] = ()  # the parsed --output choices

    def __post_init__(self) -> None:
        check_device_name(self.device)
        if self.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")

    def check_heads(self) -> None:
        """What reads the model's outputs needs a model."""
        check_task(self.task, self.threshold, self.postprocess)
        if self.outputs and self.none:
            raise UsageError("--output names the model's outputs: it needs --model")
        if self.postprocess is not None and self.none:
            raise UsageError("--postprocess reads the model's outputs: it needs --model")

    @property
    def none(self) -> bool:
        return is_no_model(self.ref)

    @property
    def reference(self) -> str | None:
        """The model as a reference to load (None: no model, or a runner already loaded)."""
        return None if self.none or not isinstance(self.ref, (str, Path)) else str(self.ref)


@dataclass(frozen=True)
class ImageSettings:
    images: str | Path | None = None  # None: the built-in probe set
    labels: str | Path | None = None
    class_names: str | Path | list[str] | None = None
    sample: int | float | None = None  # the parsed --sample
    seed: int = 0  # picks the sample, the images on which repairs are measured and those run twice


@dataclass(frozen=True)
class GateSettings:
    fail_on: str = "major"
    max_flip_rate: float | None = None
    atol: float = 1e-5
    rtol: float = 1e-5
    traffic: str | Path | dict[str, Any] | None = None
    fail_on_traffic_share: float | None = None

    def __post_init__(self) -> None:
        share = self.fail_on_traffic_share
        if share is not None and not 0 <= share <= 1:
            raise UsageError(f"--fail-on-traffic-share must be between 0 and 1, got {share}")
        if self.traffic is None and share is not None:
            raise UsageError("--fail-on-traffic-share needs --traffic PROFILE.json")
        if self.fail_on not in GATES:
            raise UsageError(f"--fail-on must be one of {', '.join(GATES)}, got {self.fail_on!r}")
        rate = self.max_flip_rate
        if rate is not None and not 0 <= rate <= 1:
            raise UsageError(f"--max-flip-rate must be between 0 and 1, got {rate}")
        for flag, tolerance in (("--atol", self.atol), ("--rtol", self.rtol)):  # nan compares false
            if not 0 <= tolerance < math.inf:
                raise UsageError(f"{flag} must be a finite number of 0 or more, got {tolerance}")


@dataclass(frozen=True)
class ReportSettings:
    paths: tuple[Path, ...] = ()  # --report (the command line's: the API returns the Report)
    format: str | None = None

    def __post_init__(self) -> None:
        if not self.paths:
            return
        from skewcheck.report import format_for
        from skewcheck.report.destination import report_destination

        for path in self.paths:  # a report that cannot be written is a usage error before the audit
            format_for(path, self.format)
            report_destination(path)


@dataclass(frozen=True)
class ExecutionSettings:
    workers: int | str = AUTO  # a count, or "auto": chosen once the images are known
    timeout: float | None = None
    engine: str = "local"
    ray_address: str | None = None
    max_tensor_mb: float | None = DEFAULT_MAX_TENSOR_MB

    def __post_init__(self) -> None:
        if self.engine not in ("local", "ray"):
            raise UsageError(f"--engine must be local or ray, got {self.engine!r}")

    @property
    def local(self) -> bool:
        return self.engine == "local"

    @property
    def requested_workers(self) -> int:
        """The count the rules see: auto is 0 until the images are known, 1 with --timeout (local)."""
        if isinstance(self.workers, int):
            return self.workers
        return 1 if self.timeout is not None and self.local else 0


@dataclass(frozen=True)
class EndpointSettings:
    input: str = "image"
    headers: tuple[str, ...] = ()
    timeout: float = 30.0
    retries: int = 2
    batch_size: int = 8
    in_flight: int = 4
    verify: bool | str = True  # True, a CA bundle path, or False
    bytes: str = "b64"


@dataclass(frozen=True)
class AuditConfig:
    pipelines: PipelineSettings
    model: ModelSettings = field(default_factory=ModelSettings)
    images: ImageSettings = field(default_factory=ImageSettings)
    gate: GateSettings = field(default_factory=GateSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    # the parsed endpoint when --serve is an http(s) URL, else None (set by the checks)
    served: Endpoint | None = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        from skewcheck.config.audit_rules import check_rules

        object.__setattr__(self, "served", check_rules(self))

    @classmethod
    def from_keywords(cls, **keywords: Any) -> AuditConfig:
        """From ``skewcheck.compare``'s flat keywords; a keyword not given keeps its default."""
        from skewcheck.config.audit_rules import build

        return build(keywords)

    @classmethod
    def from_options(cls, values: Mapping[str, Any]) -> AuditConfig:
        """From the ``compare`` command's parameters, a configuration file's values merged in."""
        from skewcheck.config.audit_rules import build, keywords_of_options

        reports = ReportSettings(tuple(values.get("report") or ()), values.get("report_format"))
        return build(keywords_of_options(values), reports)


def check_ca_bundle(path: str) -> None:
    """--endpoint-ca must load as TLS trust (a PEM file, or a folder of hashed certificates)."""
    import ssl

    try:
        if Path(path).is_dir():
            ssl.create_default_context(capath=path)
        else:
            ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError, ValueError) as exc:  # missing, unreadable, not PEM certificates
        raise UsageError(f"--endpoint-ca {path}: not a readable CA bundle ({one_line(exc)})") from None
