"""`skewcheck compare`: the audit.

(``compare_cmd`` is long on purpose: it is the typer declaration of the command's options, one
parameter each with its flag, help and panel; its body only builds the configuration once and
calls the API.)
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from skewcheck.cli.app import app, fail_usage
from skewcheck.cli.interrupt import exit_code, signals_as_interrupts
from skewcheck.cli.panels import PanelledCommand
from skewcheck.cli.progress import AuditProgress
from skewcheck.config.options import PANELS
from skewcheck.errors import EXIT_CODES_HELP, AuditError, ExitCode, UsageError
from skewcheck.native import set_verbose
from skewcheck.safe_text import visible


@app.command(
    "compare",
    cls=PanelledCommand,
    help="Audit a serving pipeline against the training pipeline through the model.\n\n" + EXIT_CODES_HELP,
)
def compare_cmd(
    ctx: typer.Context,
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        rich_help_panel=PANELS["model"],
        help="model.keras | model.h5 | SavedModel dir | model.tflite | pkg.module:fn | none",
    ),
    train: str | None = typer.Option(
        None,
        "--train",
        rich_help_panel=PANELS["pipelines"],
        help="training pipeline: pkg.module:fn | file.py:fn | spec.toml#name | golden.npz | tensors:DIR",
    ),
    serve: str | None = typer.Option(
        None,
        "--serve",
        rich_help_panel=PANELS["pipelines"],
        help="serving pipeline: pkg.module:fn | file.py:fn | spec.toml#name | golden.npz | tensors:DIR, or a live endpoint: http(s)://HOST:PORT/v1/models/NAME:predict (TF Serving, KServe v1) | .../v2/models/NAME/infer (KServe v2, Triton)",
    ),
    images: str | None = typer.Option(  # text, not a Path: a Path would turn s3://b into s3:/b
        None,
        "--images",
        rich_help_panel=PANELS["images"],
        help="folder of images (recursive, every file), or a URI pyarrow reads (s3://bucket/prefix, gs://..., file:///...); default: the built-in probe set",
    ),
    labels: str | None = typer.Option(
        None,
        "--labels",
        rich_help_panel=PANELS["images"],
        help="CSV with header file,label (file relative to --images); a path or a URI",
    ),
    class_names: Path | None = typer.Option(
        None,
        "--class-names",
        rich_help_panel=PANELS["images"],
        help="one class name per line, for labels given by name",
    ),
    report: list[Path] = typer.Option(
        [],
        "--report",
        rich_help_panel=PANELS["reports"],
        help="write a report; format from the extension: .json, .md (PR comment / job summary), .xml (JUnit), .html (self-contained, with example images), .sarif (code scanning); may repeat",
    ),
    report_format: str | None = typer.Option(
        None,
        "--format",
        rich_help_panel=PANELS["reports"],
        help="report format when the extension does not tell: json | markdown | junit | html | sarif",
    ),
    fail_on: str = typer.Option(
        "major", "--fail-on", rich_help_panel=PANELS["gate"], help="gate: critical | major | minor | never"
    ),
    max_flip_rate: float | None = typer.Option(
        None,
        "--max-flip-rate",
        rich_help_panel=PANELS["gate"],
        min=0.0,
        max=1.0,
        help="gate: also fail when top-1 flips / predicted images exceeds this (e.g. 0.01)",
    ),
    device: str = typer.Option("auto", "--device", rich_help_panel=PANELS["model"], help="cpu | gpu | auto"),
    unsafe_load: bool = typer.Option(
        False,
        "--unsafe-load",
        rich_help_panel=PANELS["model"],
        help="load Keras models with safe_mode=False (runs their Lambda code)",
    ),
    batch_size: int = typer.Option(
        32, "--batch-size", rich_help_panel=PANELS["model"], min=1, help="images per model batch"
    ),
    workers: str = typer.Option(
        "auto",
        "--workers",
        rich_help_panel=PANELS["execution"],
        help="run the pipelines in N worker processes (0: in this process; auto: one per spare core for 500 images or more). A pipeline that crashes its worker (segfault, out of memory) is recorded against that image and the audit goes on; the report is the same whatever N",
    ),
    sample: str | None = typer.Option(
        None,
        "--sample",
        rich_help_panel=PANELS["images"],
        help="audit a seeded sample of the images: a number (1000), a fraction (0.01) or a percentage (1%), drawn per probe kind and label; every rate then gets a 95% interval",
    ),
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        rich_help_panel=PANELS["execution"],
        help="with --workers or --engine ray: seconds one pipeline run may take on one image; a longer run is stopped and recorded as a pipeline-error (PipelineTimeout)",
    ),
    seed: int = typer.Option(
        0,
        "--seed",
        rich_help_panel=PANELS["images"],
        help="picks the images on which each fix is measured and the images run twice",
    ),
    max_tensor_mb: float = typer.Option(
        512.0,
        "--max-tensor-mb",
        rich_help_panel=PANELS["execution"],
        help="largest pipeline tensor kept, in MiB; a larger one is recorded as that image's pipeline-error",
    ),
    atol: float = typer.Option(
        1e-5,
        "--atol",
        rich_help_panel=PANELS["gate"],
        help="absolute tolerance for tensors and non-class model outputs: |serve - train| <= atol + rtol*|train| counts as equal",
    ),
    rtol: float = typer.Option(
        1e-5,
        "--rtol",
        rich_help_panel=PANELS["gate"],
        help="relative tolerance for tensors and non-class model outputs",
    ),
    task: str | None = typer.Option(
        None,
        "--task",
        rich_help_panel=PANELS["model"],
        help="what the model's answer is: classification | dense | embedding | detection (default: inferred per output from its shape; 1-D outputs are class scores unless --task embedding)",
    ),
    threshold: float = typer.Option(
        0.5,
        "--threshold",
        rich_help_panel=PANELS["model"],
        help="dense maps: a pixel is positive above this value (pixels crossing it and the IoU of the binarized maps are reported)",
    ),
    postprocess: str | None = typer.Option(
        None,
        "--postprocess",
        rich_help_panel=PANELS["model"],
        help="detections: file.py:fn | pkg.module:fn receiving one image's raw outputs (list of arrays) and returning boxes (N×4 x1 y1 x2 y2), scores, labels; implies --task detection",
    ),
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            rich_help_panel=PANELS["model"],
            help="which model output is which head, and how to judge it: NAME|INDEX[=KIND], KIND one of classification, dense, embedding, landmarks[:2|:3], binary, regression, anchors, other; --labels apply to the classification head; may repeat (default: inferred, and said in the report)",
        ),
    ] = None,
    endpoint_input: str = typer.Option(
        "image",
        "--endpoint-input",
        rich_help_panel=PANELS["endpoint"],
        help="endpoint --serve: image (send each file's bytes: its whole serving stack is audited) | tensor (send the train pipeline's tensor: only the served model and runtime)",
    ),
    endpoint_header: Annotated[
        list[str] | None,
        typer.Option(
            "--endpoint-header",
            rich_help_panel=PANELS["endpoint"],
            help="endpoint --serve: an HTTP header for every request, 'Name: value' (e.g. 'Authorization: Bearer ...'); never written into reports; may repeat",
        ),
    ] = None,
    endpoint_timeout: float = typer.Option(
        30.0,
        "--endpoint-timeout",
        rich_help_panel=PANELS["endpoint"],
        help="endpoint --serve: seconds for each request as a whole (connect, headers, body) and for the readiness check",
    ),
    endpoint_retries: int = typer.Option(
        2,
        "--endpoint-retries",
        rich_help_panel=PANELS["endpoint"],
        help="endpoint --serve: extra attempts on connection errors, 429 and 5xx, with exponential back-off",
    ),
    endpoint_batch_size: int = typer.Option(
        8, "--endpoint-batch-size", rich_help_panel=PANELS["endpoint"], help="endpoint --serve: images per request"
    ),
    endpoint_in_flight: int = typer.Option(
        4, "--endpoint-in-flight", rich_help_panel=PANELS["endpoint"], help="endpoint --serve: requests at once"
    ),
    endpoint_ca: Annotated[
        Path | None,
        typer.Option(
            "--endpoint-ca",
            rich_help_panel=PANELS["endpoint"],
            help="endpoint --serve: CA bundle (PEM) to verify the endpoint's TLS certificate",
        ),
    ] = None,
    endpoint_bytes: str = typer.Option(
        "b64",
        "--endpoint-bytes",
        rich_help_panel=PANELS["endpoint"],
        help="v2 endpoint, image mode: BYTES as base64 strings in JSON (b64, KServe) | the binary data extension (binary, Triton)",
    ),
    endpoint_insecure: bool = typer.Option(
        False,
        "--endpoint-insecure",
        rich_help_panel=PANELS["endpoint"],
        help="endpoint --serve: do not verify the TLS certificate",
    ),
    engine: str = typer.Option(
        "local",
        "--engine",
        rich_help_panel=PANELS["execution"],
        help="local | ray: run the pipelines and the model on Ray Data (pip install 'skewcheck[ray]'); the report is the same",
    ),
    ray_address: str | None = typer.Option(
        None,
        "--ray-address",
        rich_help_panel=PANELS["execution"],
        help="with --engine ray: join this Ray cluster (e.g. ray://head:10001 or auto); default: start a local one",
    ),
    traffic: Path | None = typer.Option(
        None,
        "--traffic",
        rich_help_panel=PANELS["gate"],
        help="a production profile (skewcheck profile --report p.json): weight and rank each finding by the share of traffic that carries its trigger",
    ),
    fail_on_traffic_share: float | None = typer.Option(
        None,
        "--fail-on-traffic-share",
        rich_help_panel=PANELS["gate"],
        help="with --traffic: also fail when a finding's weighted share of production (e.g. 0.05) exceeds this",
    ),
    example: bool = typer.Option(
        False,
        "--example",
        rich_help_panel=PANELS["run"],
        help="run on the bundled example (model, a correct and a buggy pipeline, labelled images)",
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", rich_help_panel=PANELS["run"], help="no terminal report, no progress bar"
    ),
    verbose: bool = typer.Option(
        False, "--verbose", rich_help_panel=PANELS["run"], help="let TensorFlow's and decoders' native logs through"
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        rich_help_panel=PANELS["run"],
        help="configuration file (pyproject.toml with [tool.skewcheck], or a skewcheck.toml); default: the nearest one from the working directory upwards. Flags given here override it",
    ),
    profile: str | None = typer.Option(
        None,
        "--profile",
        rich_help_panel=PANELS["run"],
        help="apply the configuration's [profiles.NAME] table on top of its options",
    ),
) -> None:
    o = _options(ctx, config, profile)
    set_verbose(o["verbose"])
    from skewcheck.report.terminal import console_for, render

    if o["example"]:
        from skewcheck.example import example_arguments

        args = example_arguments()
        for name in _EXAMPLE_PARAMS:
            o[name] = o[name] or args[name]
    if not o["train"] or not o["serve"]:
        fail_usage("--train and --serve are required (or --example)")
    report, quiet = list(o["report"]), o["quiet"]
    written: list[Path] = []
    with signals_as_interrupts():
        try:
            result = _audit_and_write(o, written)
            if not quiet:
                render(result.to_dict(lazy_images=True), console_for())
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the worker pool is already stopped
            _interrupted(exc, report, written)
    raise typer.Exit(result.exit_code)


# what --example supplies: a configuration file's values for them give way to the example's
_EXAMPLE_PARAMS = ("model", "train", "serve", "images", "labels")


def _options(ctx: typer.Context, config: Path | None, profile: str | None) -> dict[str, Any]:
    """The command's parameters, with the configuration file's values for those not given on
    the command line (flags override the file)."""
    from skewcheck.config import load_config

    values = dict(ctx.params)
    try:
        loaded = load_config(path=config, profile=profile)
    except UsageError as exc:
        fail_usage(str(exc))
    if loaded is None:
        return values
    example = values["example"] and not _defaulted(ctx, "example")
    for name, value in loaded.values.items():
        if not _defaulted(ctx, name):
            continue  # the user gave this flag: it wins
        if example and name in _EXAMPLE_PARAMS:
            continue
        values[name] = value
    return values


def _defaulted(ctx: typer.Context, name: str) -> bool:
    """True when ``name`` has its default value, not one from the command line or the environment.
    By the source's name: typer vendors its own click, whose ParameterSource is another class."""
    source = ctx.get_parameter_source(name)
    return source is None or source.name in ("DEFAULT", "DEFAULT_MAP")


def _audit_and_write(options: dict[str, Any], written: list[Path]):
    """The configuration, built once from the options (a report that cannot be written is a usage
    error before the audit), the audit, then its reports."""
    from skewcheck.api import audit
    from skewcheck.config.audit_config import AuditConfig
    from skewcheck.report import write_report

    report, verbose = list(options["report"]), options["verbose"]
    try:
        config = AuditConfig.from_options(options)
        with AuditProgress(options["quiet"]) as progress:
            result = audit(config, progress)
        for path in config.reports.paths:
            write_report(result, path, config.reports.format)
            written.append(path)
    except UsageError as exc:
        fail_usage(str(exc))
    except AuditError as exc:
        typer.echo(f"skewcheck: audit could not run: {visible(exc)}{_remove_stale(report, written)}", err=True)
        raise typer.Exit(ExitCode.AUDIT) from None
    except Exception as exc:  # a bug of ours: one line, the traceback only with --verbose
        note = _remove_stale(report, written)
        if verbose:
            raise
        typer.echo(
            f"skewcheck: internal error: {type(exc).__name__}: {visible(exc)} (rerun with --verbose for details){note}",
            err=True,
        )
        raise typer.Exit(ExitCode.AUDIT) from None
    return result


def _remove_stale(report: list[Path], written: list[Path]) -> str:
    """Remove what is at a --report path this run did not write: an earlier run's report, which CI
    would otherwise read as this run's (a passing one, after this run could not audit). What to
    add to the line that says why the run ended."""
    from skewcheck.report.destination import is_replaceable_report

    stale = []
    for path in report:
        if path in written or not is_replaceable_report(path):  # a FIFO or /dev/fd/N holds no old report
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            stale.append(visible(path))
    return f" (removed {', '.join(stale)}, so that no stale report is left)" if stale else ""


def _interrupted(exc: KeyboardInterrupt, report: list[Path], written: list[Path]) -> None:
    """One line and 130 (SIGINT) or 143 (SIGTERM). A report at a --report path this run did not
    finish writing is from an earlier run: it is removed, so that CI never reads it as this run's."""
    if report and len(written) == len(report):
        typer.echo(f"skewcheck: interrupted after the report{'s' if len(report) > 1 else ''} were written", err=True)
        raise typer.Exit(exit_code(exc))
    typer.echo(f"skewcheck: interrupted: no report written{_remove_stale(report, [])}", err=True)
    raise typer.Exit(exit_code(exc))
