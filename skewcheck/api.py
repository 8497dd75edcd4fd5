"""The Python API: ``skewcheck.compare(...) -> Report``. The CLI is a thin shell over it."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skewcheck.audit import AuditInputs, ProgressFn, run_audit
from skewcheck.comparison.heads import parse_outputs
from skewcheck.comparison.outputs import check_task, load_postprocess
from skewcheck.errors import UsageError, one_line
from skewcheck.images.discover import ImageFiles
from skewcheck.images.labels import read_class_names, read_labels
from skewcheck.images.sample import SampledFiles, parse_sample
from skewcheck.images.source import ImageFile, ImageRoot, is_uri
from skewcheck.models._common import check_device_name
from skewcheck.native import quiet_imports, quiet_tensorflow_env
from skewcheck.pipelines import load_pipeline
from skewcheck.pipelines.outcome import DEFAULT_MAX_TENSOR_MB
from skewcheck.report.model import GATES, Report
from skewcheck.worker_count import AUTO, auto_workers, parse_workers

if TYPE_CHECKING:
    from skewcheck.pipelines.base import Pipeline
    from skewcheck.serving.side import EndpointSide

PipelineRef = str | Callable[..., Any]


def compare(
    *,
    model: Any = "none",
    train: PipelineRef,
    serve: PipelineRef,
    images: str | Path | None = None,
    labels: str | Path | None = None,
    class_names: str | Path | list[str] | None = None,
    fail_on: str = "major",
    device: str = "auto",
    unsafe_load: bool = False,
    batch_size: int = 32,
    atol: float = 1e-5,
    rtol: float = 1e-5,
    max_flip_rate: float | None = None,
    workers: int | str = "auto",
    timeout: float | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    max_tensor_mb: float | None = DEFAULT_MAX_TENSOR_MB,
    task: str | None = None,
    threshold: float = 0.5,
    postprocess: str | Callable[..., Any] | None = None,
    outputs: list[str] | tuple[Any, ...] = (),
    endpoint_input: str = "image",
    endpoint_headers: list[str] | tuple[str, ...] = (),
    endpoint_timeout: float = 30.0,
    endpoint_retries: int = 2,
    endpoint_batch_size: int = 8,
    endpoint_in_flight: int = 4,
    endpoint_verify: bool | str = True,
    endpoint_bytes: str = "b64",
    engine: str = "local",
    ray_address: str | None = None,
    sample: int | float | str | None = None,
    traffic: str | Path | dict[str, Any] | None = None,
    fail_on_traffic_share: float | None = None,
) -> Report:
    """Audit ``serve`` against ``train`` on ``images`` (default: the built-in probe set).

    ``images`` is a folder, or a URI that pyarrow resolves (``s3://bucket/prefix``, ``gs://...``,
    ``file:///...``; needs the ``ray`` extra's pyarrow), read through pyarrow by every stage; a
    ``labels`` URI is read the same way (docs/scale.md).
    ``model`` is a path or reference (``model.keras``, a SavedModel dir, ``.tflite``,
    ``pkg.module:fn``), an already loaded runner, or ``"none"`` for a tensor-only audit.
    ``atol``/``rtol`` apply to non-class model outputs and to tensors: a pair with
    |serve - train| <= atol + rtol·|train| everywhere counts as equal (dtype and shape still count).
    ``max_flip_rate`` fails the gate when top-1 flips / predicted images exceeds it.
    ``workers`` ≥ 1 runs the pipelines in that many worker processes, which rebuild them from
    their references, so ``train`` and ``serve`` must then be strings; ``"auto"`` (the default)
    starts one per spare core for 500 images or more when both are references, else runs
    in-process (skewcheck/worker_count.py); a run that crashes its
    worker is recorded against its image (``WorkerCrashed``) and the audit goes on. ``timeout``
    (seconds, workers only) stops a pipeline run that takes longer and records it the same way.
    ``seed`` picks the images on which repairs are measured and the images run twice, and the
    ``sample``: a number of images, a fraction or a percentage of the folder, drawn per probe
    kind and label (skewcheck/images/sample.py); every rate of the report then gets a 95 %
    Wilson interval (``summary.sample``).
    ``max_tensor_mb``: a pipeline tensor larger than this many MiB is not kept; that image's
    outcome is a ``pipeline-error`` (``TensorTooLarge``) instead (``None``: no limit).
    ``task`` (``classification``, ``dense``, ``embedding``, ``detection``; default: inferred per
    output from its shape) says what the model's answer is; ``threshold`` binarizes dense maps;
    ``postprocess`` (``file.py:fn``, ``pkg.module:fn`` or a callable) turns one image's raw outputs
    into boxes, scores and labels, and implies ``task="detection"`` (docs/models.md); ``yolov8``
    and ``yolov5`` name the built-in decoders of those raw heads.
    ``outputs`` (``"NAME|INDEX[=KIND]"``, as ``--output``) says which output is which head and how
    to judge it; without it the heads are inferred and the report says how (``summary.heads``).
    ``serve`` may be a live endpoint URL (``http(s)://HOST:PORT/v1/models/NAME:predict``, TF Serving
    / KServe v1, or ``…/v2/models/NAME/infer``, KServe v2 / Triton); ``endpoint_input`` ``image``
    sends each file's bytes (the whole serving stack is audited, and diagnosed by replay through
    ``model``), ``tensor`` sends train's tensor (the served model and runtime are audited).
    ``endpoint_headers`` (``"Name: value"``, e.g. a bearer token) go with every request and never
    into the report; ``endpoint_verify`` is True, a CA bundle path, or False; ``endpoint_bytes``
    (v2 image mode) sends BYTES as base64 JSON strings (``b64``, KServe) or in the binary data
    extension (``binary``, Triton) (docs/serving.md).
    ``engine="ray"`` runs the pipelines and the model on Ray Data (``pip install 'skewcheck[ray]'``),
    joining the cluster at ``ray_address`` or starting a local one; ``train``, ``serve`` and
    ``model`` must then be references, and the report is the same as ``engine="local"``'s, plus
    ``summary.engine`` (docs/scale.md).
    ``traffic``: a profile of production inputs (``skewcheck profile --report p.json``, or its
    loaded dict): each finding gets the share of traffic carrying its trigger and the findings are
    ranked by it; ``fail_on_traffic_share`` fails the gate when a finding's weighted share exceeds
    it (skewcheck/profile/traffic.py, docs/profile.md).
    Usage problems raise :class:`skewcheck.errors.UsageError`.
    """
    production = _traffic(traffic, fail_on_traffic_share)
    if fail_on not in GATES:
        raise UsageError(f"--fail-on must be one of {', '.join(GATES)}, got {fail_on!r}")
    check_device_name(device)
    if batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if max_flip_rate is not None and not 0 <= max_flip_rate <= 1:
        raise UsageError(f"--max-flip-rate must be between 0 and 1, got {max_flip_rate}")
    for flag, tolerance in (("--atol", atol), ("--rtol", rtol)):  # nan compares false: it passed `< 0`
        if not 0 <= tolerance < math.inf:
            raise UsageError(f"{flag} must be a finite number of 0 or more, got {tolerance}")
    wanted = parse_sample(sample)  # checked before any work, like the other flags
    workers = parse_workers(workers)
    chosen = workers if isinstance(workers, int) else 0  # auto: the count is chosen once the images are known
    if workers == AUTO and timeout is not None and engine == "local":
        chosen = 1  # --timeout needs a worker
    _check_workers(chosen, timeout if engine == "local" else None, train, serve)
    source = _engine(
        engine, ray_address, chosen, model, train, serve, device, unsafe_load, batch_size, timeout, max_tensor_mb
    )
    check_task(task, threshold, postprocess)
    if parse_outputs(outputs) and isinstance(model, str) and model.strip().lower() == "none":
        raise UsageError("--output names the model's outputs: it needs --model")
    if postprocess is not None and (model is None or (isinstance(model, str) and model.strip().lower() == "none")):
        raise UsageError("--postprocess reads the model's outputs: it needs --model")

    endpoint = _endpoint(
        serve,
        model,
        chosen,
        endpoint_input,
        endpoint_headers,
        endpoint_timeout,
        endpoint_retries,
        endpoint_batch_size,
        endpoint_in_flight,
        endpoint_verify,
        endpoint_bytes,
    )
    quiet_tensorflow_env()
    root, probes = _image_root(images)
    with quiet_imports():  # a pipeline module that imports TensorFlow prints its log lines here
        train_p = load_pipeline(train, what="--train", images_root=root, max_tensor_mb=max_tensor_mb)
        side = _serve_side(endpoint, train_p) if endpoint is not None else None
        serve_p = (
            side
            if side is not None
            else load_pipeline(serve, what="--serve", images_root=root, max_tensor_mb=max_tensor_mb)
        )
    post = load_postprocess(postprocess)
    names = _class_names(class_names)
    names_source = "class_names" if isinstance(class_names, list) else f"--class-names {class_names}"
    labels_file = _labels_file(labels, root)
    label_map = read_labels(labels_file, names, names_source) if labels_file is not None else {}
    skip = {labels_file} if labels_file is not None else set()
    files = ImageFiles(root, skip=skip)  # walked lazily: no list of every path
    if not len(files):
        raise UsageError(f"no files found under {root}")
    sampled = _sampled(files, root, wanted, seed, probes, label_map) if wanted is not None else None
    if sampled is not None:
        files = sampled  # type: ignore[assignment]
    if progress is not None:
        progress(0, len(files))  # the total is known from the start: the bar never shows "0/?"

    def load() -> tuple[Any, Any]:
        with quiet_imports():
            runner = _load_model(model, device, unsafe_load)
        return runner, _expected_input(runner)

    if workers == AUTO:  # one per spare core for a large enough audit of references (skewcheck/worker_count.py)
        references = isinstance(train, str) and isinstance(serve, str)
        local = engine == "local" and endpoint is None
        workers = auto_workers(len(files), references and local, timeout if local else None)
    assert isinstance(workers, int)
    # with workers, the audit loads the model once the pool is decoding: its TensorFlow import overlaps them
    deferred = workers > 0 and isinstance(model, (str, Path)) and str(model).strip().lower() != "none"
    runner, expects = (None, None) if deferred else load()
    inputs = AuditInputs(
        train=train_p,
        serve=serve_p,
        files=files,
        root=root,
        runner=runner,
        labels=label_map,
        class_names=names,
        probes=probes,
        gate=fail_on,
        batch_size=batch_size,
        atol=atol,
        rtol=rtol,
        max_flip_rate=max_flip_rate,
        model_expects=expects,
        workers=workers,
        timeout=timeout,
        seed=seed,
        max_tensor_mb=max_tensor_mb,
        task=task,
        threshold=threshold,
        postprocess=post,
        outputs=parse_outputs(outputs),
        serve_source=side,
        engine=source,
        sample=sampled.summary(seed, _strata_names(probes, label_map)) if sampled is not None else None,
        load_runner=load if deferred else None,
    )
    try:
        report = run_audit(inputs, progress)
    finally:
        if side is not None:
            side.close()
    if source is not None:
        report.summary["engine"] = source.summary()  # which images Ray retried or lost, if any
    report.summary["skipped_files"] = files.discovery.summary()  # symlinks to folders, FIFOs, loops... and why
    if production is not None:
        from skewcheck.profile.traffic import apply_traffic

        apply_traffic(report, production, fail_on_traffic_share)
    return report


def _traffic(traffic: str | Path | dict[str, Any] | None, max_share: float | None) -> dict[str, Any] | None:
    """The production profile, read before any work (a bad one is a usage error)."""
    if max_share is not None and not 0 <= max_share <= 1:
        raise UsageError(f"--fail-on-traffic-share must be between 0 and 1, got {max_share}")
    if traffic is None:
        if max_share is not None:
            raise UsageError("--fail-on-traffic-share needs --traffic PROFILE.json")
        return None
    if isinstance(traffic, dict):
        return traffic
    from skewcheck.profile.traffic import load_profile

    return load_profile(traffic)


def _endpoint(
    serve: PipelineRef,
    model: Any,
    workers: int,
    mode: str,
    headers: list[str] | tuple[str, ...],
    timeout: float,
    retries: int,
    batch_size: int,
    in_flight: int,
    verify: bool | str,
    encoding: str,
) -> Any:
    """The Endpoint when ``serve`` is an http(s) URL (None for a pipeline)."""
    from skewcheck.serving import is_endpoint_ref

    if not is_endpoint_ref(serve):
        return None
    from skewcheck.serving.endpoint import parse_endpoint

    _check_seconds("--endpoint-timeout", timeout)
    if isinstance(verify, str):
        _check_ca_bundle(verify)
    try:
        endpoint = parse_endpoint(
            str(serve),
            input=mode,
            headers=headers,
            timeout=timeout,
            retries=retries,
            batch_size=batch_size,
            in_flight=in_flight,
            verify=verify,
            bytes_encoding=encoding,
        )
    except ValueError as exc:  # urllib: port out of range, an unclosed IPv6 bracket... (never echoes the URL)
        raise UsageError(f"--serve is not a valid endpoint URL: {one_line(exc)}") from None
    if model is None or (isinstance(model, str) and model.strip().lower() == "none"):
        raise UsageError(
            "--serve is an endpoint, which yields predictions: --model (the model file that was deployed) is needed to compare them"
        )
    if workers:
        raise UsageError(
            "--workers is not supported with an endpoint as --serve (requests already run in parallel: --endpoint-in-flight)"
        )
    return endpoint


def _check_ca_bundle(path: str) -> None:
    """--endpoint-ca must load as TLS trust (a PEM file, or a folder of hashed certificates)."""
    import ssl

    try:
        if Path(path).is_dir():
            ssl.create_default_context(capath=path)
        else:
            ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError, ValueError) as exc:  # missing, unreadable, not PEM certificates
        raise UsageError(f"--endpoint-ca {path}: not a readable CA bundle ({one_line(exc)})") from None


def _serve_side(endpoint: Any, train: Pipeline) -> EndpointSide:
    from skewcheck.serving.side import EndpointSide

    side = EndpointSide(endpoint, train)
    try:
        side.open()  # unreachable, refused or no such model: one UsageError line (exit 2)
    except BaseException:
        side.close()
        raise
    return side


def _sampled(
    files: ImageFiles, root: ImageRoot, size: int | float, seed: int, probes: dict[str, Any], labels: dict[str, Any]
) -> SampledFiles:
    def stratum(name: str) -> tuple[str | None, str | None]:
        probe, label = probes.get(name), labels.get(name)
        return (probe.kind if probe is not None else None, str(label) if label is not None else None)

    return SampledFiles(files, root, size, seed, stratum)


def _strata_names(probes: dict[str, Any], labels: dict[str, Any]) -> list[str]:
    return [name for name, given in (("probe kind", probes), ("label", labels)) if given]


def _check_seconds(flag: str, seconds: float | None) -> None:
    """A time limit is a positive, finite number of seconds: nan and inf set no deadline at all."""
    if seconds is not None and not 0 < seconds < math.inf:
        raise UsageError(f"{flag} must be a positive, finite number of seconds, got {seconds}")


def _check_workers(workers: int, timeout: float | None, train: PipelineRef, serve: PipelineRef) -> None:
    """Worker processes rebuild the pipelines from references: a Python object cannot travel."""
    if workers < 0:
        raise UsageError(f"--workers must be 0 (in-process) or more, got {workers}")
    _check_seconds("--timeout", timeout)
    if timeout is not None and workers == 0:
        raise UsageError("--timeout needs --workers 1 or more: only a worker process can be stopped mid-run")
    if workers == 0:
        return
    for side, ref in (("train", train), ("serve", serve)):
        if not isinstance(ref, str):
            raise UsageError(
                f"workers={workers} needs {side} as a reference string ('pkg.module:fn', 'file.py:fn', "
                f"'spec.toml#name', 'golden.npz', 'tensors:DIR'), got a {type(ref).__name__}: "
                "worker processes rebuild the pipelines from their references (or use workers=0)"
            )


def _engine(
    name: str,
    address: str | None,
    workers: int,
    model: Any,
    train: PipelineRef,
    serve: PipelineRef,
    device: str,
    unsafe_load: bool,
    batch_size: int,
    timeout: float | None,
    max_tensor_mb: float | None,
) -> Any:
    """None for the local engine; for Ray, an engine that imports Ray only when it runs."""
    if name not in ("local", "ray"):
        raise UsageError(f"--engine must be local or ray, got {name!r}")
    if name == "local":
        if address is not None:
            raise UsageError("--ray-address needs --engine ray")
        return None
    if workers:
        raise UsageError("--workers is for the local engine: with --engine ray, Ray runs the pipelines")
    _check_seconds("--timeout", timeout)
    if isinstance(serve, str) and serve.strip().lower().startswith(("http://", "https://")):
        raise UsageError(
            "--engine ray runs pipeline references on Ray workers; audit an endpoint --serve with --engine local"
        )
    refs = {"train": train, "serve": serve, "model": model}
    for what, ref in refs.items():
        if not isinstance(ref, (str, Path)):
            raise UsageError(
                f"engine='ray' needs {what} as a reference string (Ray workers rebuild it), got a {type(ref).__name__}"
            )
    from skewcheck.engines.ray_engine import RayEngine, check_installed
    from skewcheck.native import is_verbose

    check_installed()
    model_ref = None if str(model).strip().lower() == "none" else str(model)
    return RayEngine(
        train=str(train),
        serve=str(serve),
        model=model_ref,
        device=device,
        unsafe_load=unsafe_load,
        address=address,
        batch_size=batch_size,
        timeout=timeout,
        max_tensor_mb=max_tensor_mb,
        verbose=is_verbose(),
    )


def _image_root(images: str | Path | None) -> tuple[ImageRoot, dict[str, Any]]:
    """The ``--images`` folder (a local one, or one a URI names) and its probe manifest, if any."""
    from skewcheck import probes

    if is_uri(images):
        from skewcheck.images.uri import open_folder

        root: ImageRoot = open_folder(str(images))
    else:
        root = probes.images_root(images)
    return root, probes.load_manifest(root)


def _labels_file(labels: str | Path | None, root: ImageRoot) -> ImageFile | None:
    if labels is None or not is_uri(labels):
        return None if labels is None else Path(labels)
    from skewcheck.images.uri import open_file

    return open_file("--labels", str(labels), root)


def _class_names(value: str | Path | list[str] | None) -> list[str] | None:
    if value is None or isinstance(value, list):
        return value
    return read_class_names(Path(value))


def _expected_input(runner: Any) -> Any:
    """What the model's own layers / quantization say its input should hold (None: unknown)."""
    from skewcheck.models.inspect import expected_input

    return expected_input(runner)


def _load_model(model: Any, device: str, unsafe_load: bool) -> Any:
    if model is None or (isinstance(model, str) and model.strip().lower() == "none"):
        return None
    if not isinstance(model, (str, Path)):
        return model  # an already loaded runner
    from skewcheck.models import load_model

    return load_model(str(model), device=device, unsafe_load=unsafe_load)
