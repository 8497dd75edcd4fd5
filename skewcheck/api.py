"""The Python API: ``skewcheck.compare(...) -> Report``. The CLI is a thin shell over it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skewcheck.audit import AuditInputs, ProgressFn, run_audit
from skewcheck.comparison.outputs import load_postprocess
from skewcheck.config.audit_config import AuditConfig, ImageSettings, PipelineRef
from skewcheck.errors import UsageError
from skewcheck.images.discover import ImageFiles
from skewcheck.images.labels import read_class_names, read_labels
from skewcheck.images.sample import SampledFiles
from skewcheck.images.source import ImageFile, ImageRoot, is_uri
from skewcheck.native import quiet_imports, quiet_tensorflow_env
from skewcheck.no_model import is_no_model
from skewcheck.pipelines import load_pipeline
from skewcheck.pipelines.outcome import DEFAULT_MAX_TENSOR_MB
from skewcheck.report.model import Report
from skewcheck.worker_count import AUTO, auto_workers

if TYPE_CHECKING:
    from skewcheck.pipelines.base import Pipeline
    from skewcheck.serving.endpoint import Endpoint
    from skewcheck.serving.side import EndpointSide


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

    (Over 80 lines on purpose: flat keywords, one per CLI option, converted once into a frozen
    AuditConfig (``AuditConfig.from_keywords``); the body only does that and runs :func:`audit`.)

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
    keywords = dict(locals())  # the flat keywords, converted once into a frozen, validated configuration
    return audit(AuditConfig.from_keywords(**{k: v for k, v in keywords.items() if k != "progress"}), progress)


def audit(config: AuditConfig, progress: ProgressFn | None = None) -> Report:
    """The audit of a configuration (skewcheck/config/audit_config.py): what it names is loaded
    here (traffic profile, engine, pipelines, labels, model), then :func:`run_audit` runs."""
    production = _traffic(config.gate.traffic)
    source = _engine(config)
    quiet_tensorflow_env()
    root, probes = _image_root(config.images.images)
    side, train_p, serve_p = _pipelines(config, root)
    post = load_postprocess(config.model.postprocess)
    names, label_map, files = _images(config, root)
    sampled = _sampled(files, root, config.images, probes, label_map)
    if sampled is not None:
        files = sampled  # type: ignore[assignment]
    if progress is not None:
        progress(0, len(files))  # the total is known from the start: the bar never shows "0/?"

    def load() -> tuple[Any, Any]:
        with quiet_imports():
            runner = _load_model(config.model.ref, config.model.device, config.model.unsafe_load)
        return runner, _expected_input(runner)

    workers = _workers(config, len(files))
    # with workers, the audit loads the model once the pool is decoding: its TensorFlow import overlaps them
    deferred = workers > 0 and config.model.reference is not None
    runner, expects = (None, None) if deferred else load()
    inputs = AuditInputs(
        config=config,
        train=train_p,
        serve=serve_p,
        files=files,
        root=root,
        runner=runner,
        labels=label_map,
        class_names=names,
        probes=probes,
        model_expects=expects,
        workers=workers,
        postprocess=post,
        serve_source=side,
        engine=source,
        sample=sampled.summary(config.images.seed, _strata_names(probes, label_map)) if sampled is not None else None,
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

        apply_traffic(report, production, config.gate.fail_on_traffic_share)
    return report


def _traffic(traffic: str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    """The production profile, read before any work (a bad one is a usage error)."""
    if traffic is None or isinstance(traffic, dict):
        return traffic
    from skewcheck.profile.traffic import load_profile

    return load_profile(traffic)


def _pipelines(config: AuditConfig, root: ImageRoot) -> tuple[EndpointSide | None, Pipeline, Pipeline]:
    """The endpoint side (None for a pipeline), and the train and serve pipelines."""
    refs, max_mb = config.pipelines, config.execution.max_tensor_mb
    with quiet_imports():  # a pipeline module that imports TensorFlow prints its log lines here
        train = load_pipeline(refs.train, what="--train", images_root=root, max_tensor_mb=max_mb)
        side = _serve_side(config.served, train) if config.served is not None else None
        serve = (
            side
            if side is not None
            else load_pipeline(refs.serve, what="--serve", images_root=root, max_tensor_mb=max_mb)
        )
    return side, train, serve


def _images(config: AuditConfig, root: ImageRoot) -> tuple[list[str] | None, dict[str, Any], ImageFiles]:
    """The class names, the labels and the image files (the labels file itself skipped)."""
    given = config.images.class_names
    names = _class_names(given)
    names_source = "class_names" if isinstance(given, list) else f"--class-names {given}"
    labels_file = _labels_file(config.images.labels, root)
    label_map = read_labels(labels_file, names, names_source) if labels_file is not None else {}
    skip = {labels_file} if labels_file is not None else set()
    files = ImageFiles(root, skip=skip)  # walked lazily: no list of every path
    if not len(files):
        raise UsageError(f"no files found under {root}")
    return names, label_map, files


def _workers(config: AuditConfig, images: int) -> int:
    """The worker count: as given, or what ``auto`` means for this audit (skewcheck/worker_count.py)."""
    workers, execution = config.execution.workers, config.execution
    if workers != AUTO:
        assert isinstance(workers, int)
        return workers
    references = isinstance(config.pipelines.train, str) and isinstance(config.pipelines.serve, str)
    local = execution.local and config.served is None
    return auto_workers(images, references and local, execution.timeout if local else None)


def _serve_side(endpoint: Endpoint, train: Pipeline) -> EndpointSide:
    from skewcheck.serving.side import EndpointSide

    side = EndpointSide(endpoint, train)
    try:
        side.open()  # unreachable, refused or no such model: one UsageError line (exit 2)
    except BaseException:
        side.close()
        raise
    return side


def _sampled(
    files: ImageFiles, root: ImageRoot, images: ImageSettings, probes: dict[str, Any], labels: dict[str, Any]
) -> SampledFiles | None:
    """The seeded ``--sample`` of the files, drawn per probe kind and label (None: every file)."""
    if images.sample is None:
        return None

    def stratum(name: str) -> tuple[str | None, str | None]:
        probe, label = probes.get(name), labels.get(name)
        return (probe.kind if probe is not None else None, str(label) if label is not None else None)

    return SampledFiles(files, root, images.sample, images.seed, stratum)


def _strata_names(probes: dict[str, Any], labels: dict[str, Any]) -> list[str]:
    return [name for name, given in (("probe kind", probes), ("label", labels)) if given]


def _engine(config: AuditConfig) -> Any:
    """None for the local engine; for Ray, an engine that imports Ray only when it runs."""
    if config.execution.local:
        return None
    from skewcheck.engines.ray_engine import RayEngine, check_installed
    from skewcheck.native import is_verbose

    check_installed()
    return RayEngine(
        train=str(config.pipelines.train),
        serve=str(config.pipelines.serve),
        model=config.model.reference,
        device=config.model.device,
        unsafe_load=config.model.unsafe_load,
        address=config.execution.ray_address,
        batch_size=config.model.batch_size,
        timeout=config.execution.timeout,
        max_tensor_mb=config.execution.max_tensor_mb,
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
    """The runner ``model`` names (also skewcheck/augment/api.py's): None for no model."""
    if is_no_model(model):
        return None
    if not isinstance(model, (str, Path)):
        return model  # an already loaded runner
    from skewcheck.models import load_model

    return load_model(str(model), device=device, unsafe_load=unsafe_load)
