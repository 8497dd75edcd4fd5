"""How an :class:`~skewcheck.config.audit_config.AuditConfig` is built from flat keywords or the
command's parameters, and the rules between its groups (checked once, when it is built)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from skewcheck.comparison.heads import parse_outputs
from skewcheck.config.audit_config import (
    AuditConfig,
    EndpointSettings,
    ExecutionSettings,
    GateSettings,
    ImageSettings,
    ModelSettings,
    PipelineSettings,
    ReportSettings,
    check_ca_bundle,
    check_seconds,
)
from skewcheck.errors import UsageError, one_line
from skewcheck.images.sample import parse_sample
from skewcheck.worker_count import parse_workers

if TYPE_CHECKING:
    from skewcheck.serving.endpoint import Endpoint

# skewcheck.compare's keyword -> (group, field); the groups are built in this order
KEYWORDS: dict[str, tuple[str, str]] = {
    "fail_on": ("gate", "fail_on"),
    "max_flip_rate": ("gate", "max_flip_rate"),
    "atol": ("gate", "atol"),
    "rtol": ("gate", "rtol"),
    "traffic": ("gate", "traffic"),
    "fail_on_traffic_share": ("gate", "fail_on_traffic_share"),
    "model": ("model", "ref"),
    "device": ("model", "device"),
    "unsafe_load": ("model", "unsafe_load"),
    "batch_size": ("model", "batch_size"),
    "task": ("model", "task"),
    "threshold": ("model", "threshold"),
    "postprocess": ("model", "postprocess"),
    "outputs": ("model", "outputs"),
    "images": ("images", "images"),
    "labels": ("images", "labels"),
    "class_names": ("images", "class_names"),
    "sample": ("images", "sample"),
    "seed": ("images", "seed"),
    "workers": ("execution", "workers"),
    "timeout": ("execution", "timeout"),
    "engine": ("execution", "engine"),
    "ray_address": ("execution", "ray_address"),
    "max_tensor_mb": ("execution", "max_tensor_mb"),
    "endpoint_input": ("endpoint", "input"),
    "endpoint_headers": ("endpoint", "headers"),
    "endpoint_timeout": ("endpoint", "timeout"),
    "endpoint_retries": ("endpoint", "retries"),
    "endpoint_batch_size": ("endpoint", "batch_size"),
    "endpoint_in_flight": ("endpoint", "in_flight"),
    "endpoint_verify": ("endpoint", "verify"),
    "endpoint_bytes": ("endpoint", "bytes"),
    "train": ("pipelines", "train"),
    "serve": ("pipelines", "serve"),
}
_GROUPS: dict[str, Callable[..., Any]] = {
    "gate": GateSettings,
    "model": ModelSettings,
    "images": ImageSettings,
    "execution": ExecutionSettings,
    "endpoint": EndpointSettings,
    "pipelines": PipelineSettings,
}
# what a value is parsed into before its group checks it
_PARSE: dict[str, Callable[[Any], Any]] = {
    "outputs": parse_outputs,
    "sample": parse_sample,
    "workers": parse_workers,
    "endpoint_headers": tuple,
}
# the command's parameters that are skewcheck.compare's keywords under another name
_RENAMED = {"output": "outputs", "endpoint_header": "endpoint_headers"}


def build(keywords: Mapping[str, Any], reports: ReportSettings | None = None) -> AuditConfig:
    unknown = sorted(set(keywords) - set(KEYWORDS))
    if unknown:
        raise TypeError(f"unexpected keyword arguments: {', '.join(unknown)}")
    groups: dict[str, Any] = {}
    for group, make in _GROUPS.items():  # parsed and checked group by group, in this order
        given = {
            name: _PARSE.get(keyword, _same)(keywords[keyword])
            for keyword, (of, name) in KEYWORDS.items()
            if of == group and keyword in keywords
        }
        groups[group] = make(**given)
    return AuditConfig(reports=reports or ReportSettings(), **groups)


def keywords_of_options(values: Mapping[str, Any]) -> dict[str, Any]:
    """``skewcheck.compare``'s keywords from the ``compare`` command's parameters."""
    keywords = {_RENAMED.get(k, k): v for k, v in values.items() if _RENAMED.get(k, k) in KEYWORDS}
    keywords["model"] = values.get("model") or "none"
    keywords["outputs"] = values.get("output") or ()
    keywords["endpoint_headers"] = values.get("endpoint_header") or []
    ca = values.get("endpoint_ca")
    keywords["endpoint_verify"] = False if values.get("endpoint_insecure") else (str(ca) if ca else True)
    return keywords


def _same(value: Any) -> Any:
    return value


def check_rules(config: AuditConfig) -> Endpoint | None:
    """The rules between the groups, in the order the audit has always checked them; the parsed
    endpoint when --serve is one."""
    execution, pipelines = config.execution, config.pipelines
    _check_workers(execution.requested_workers, execution.timeout if execution.local else None, pipelines)
    if not execution.local:
        _check_ray(config)
    elif execution.ray_address is not None:
        raise UsageError("--ray-address needs --engine ray")
    config.model.check_heads()
    return _endpoint(config)


def _check_workers(workers: int, timeout: float | None, pipelines: PipelineSettings) -> None:
    """Worker processes rebuild the pipelines from references: a Python object cannot travel."""
    if workers < 0:
        raise UsageError(f"--workers must be 0 (in-process) or more, got {workers}")
    check_seconds("--timeout", timeout)
    if timeout is not None and workers == 0:
        raise UsageError("--timeout needs --workers 1 or more: only a worker process can be stopped mid-run")
    if workers == 0:
        return
    for side, ref in (("train", pipelines.train), ("serve", pipelines.serve)):
        if not isinstance(ref, str):
            raise UsageError(
                f"workers={workers} needs {side} as a reference string ('pkg.module:fn', 'file.py:fn', "
                f"'spec.toml#name', 'golden.npz', 'tensors:DIR'), got a {type(ref).__name__}: "
                "worker processes rebuild the pipelines from their references (or use workers=0)"
            )


def _check_ray(config: AuditConfig) -> None:
    """Ray workers rebuild the pipelines and the model from references."""
    from pathlib import Path

    if config.execution.requested_workers:
        raise UsageError("--workers is for the local engine: with --engine ray, Ray runs the pipelines")
    check_seconds("--timeout", config.execution.timeout)
    serve = config.pipelines.serve
    if isinstance(serve, str) and serve.strip().lower().startswith(("http://", "https://")):
        raise UsageError(
            "--engine ray runs pipeline references on Ray workers; audit an endpoint --serve with --engine local"
        )
    refs = {"train": config.pipelines.train, "serve": serve, "model": config.model.ref}
    for what, ref in refs.items():
        if not isinstance(ref, (str, Path)):
            raise UsageError(
                f"engine='ray' needs {what} as a reference string (Ray workers rebuild it), got a {type(ref).__name__}"
            )


def _endpoint(config: AuditConfig) -> Endpoint | None:
    """The Endpoint when ``serve`` is an http(s) URL (None for a pipeline)."""
    from skewcheck.serving import is_endpoint_ref

    serve, options = config.pipelines.serve, config.endpoint
    if not is_endpoint_ref(serve):
        return None
    from skewcheck.serving.endpoint import parse_endpoint

    check_seconds("--endpoint-timeout", options.timeout)
    if isinstance(options.verify, str):
        check_ca_bundle(options.verify)
    try:
        endpoint = parse_endpoint(
            str(serve),
            input=options.input,
            headers=options.headers,
            timeout=options.timeout,
            retries=options.retries,
            batch_size=options.batch_size,
            in_flight=options.in_flight,
            verify=options.verify,
            bytes_encoding=options.bytes,
        )
    except ValueError as exc:  # urllib: port out of range, an unclosed IPv6 bracket... (never echoes the URL)
        raise UsageError(f"--serve is not a valid endpoint URL: {one_line(exc)}") from None
    if config.model.none:
        raise UsageError(
            "--serve is an endpoint, which yields predictions: --model (the model file that was deployed) is needed to compare them"
        )
    if config.execution.requested_workers:
        raise UsageError(
            "--workers is not supported with an endpoint as --serve (requests already run in parallel: --endpoint-in-flight)"
        )
    return endpoint
