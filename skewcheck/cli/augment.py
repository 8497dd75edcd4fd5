"""`skewcheck augment`: audit a training augmentation policy (docs/augment.md).

(``augment_cmd`` is long on purpose: the typer declaration of the command's options, one parameter
each; its body calls ``skewcheck.augment.audit_policy``.)
"""

from __future__ import annotations

from pathlib import Path

import typer

from skewcheck.cli.app import app, fail_usage
from skewcheck.errors import EXIT_CODES_HELP, AuditError, ExitCode, UsageError
from skewcheck.native import set_verbose
from skewcheck.safe_text import visible


@app.command(
    "augment",
    help=(
        "Audit a training augmentation policy: transforms that break labels (6 → 9 under a 180° rotation), "
        "boxes that do not move with the pixels, and strengths that leave the natural distribution.\n\n"
        + EXIT_CODES_HELP.replace("no skew", "no finding").replace("skew found", "findings")
    ),
)
def augment_cmd(
    model: str | None = typer.Option(
        None, "--model", "-m", help="model.keras | .h5 | SavedModel dir | .tflite | pkg.module:fn"
    ),
    train: str | None = typer.Option(
        None, "--train", help="training pipeline (file → model tensor): pkg.module:fn | file.py:fn | spec.toml#name"
    ),
    augment: str | None = typer.Option(
        None,
        "--augment",
        help="the policy: policy.toml ([[transform]] name = rotate, min/max/steps) or aug.py:policy returning {name: transform}",
    ),
    images: Path | None = typer.Option(None, "--images", help="folder of images (recursive)"),
    labels: Path | None = typer.Option(None, "--labels", help="CSV with header file,label (file relative to --images)"),
    class_names: Path | None = typer.Option(None, "--class-names", help="one class name per line"),
    task: str | None = typer.Option(
        None, "--task", help="classification | dense | embedding | detection (default: inferred from the outputs)"
    ),
    postprocess: str | None = typer.Option(
        None,
        "--postprocess",
        help="detections: file.py:fn turning one image's raw outputs into boxes (N×4 x1 y1 x2 y2), scores, labels",
    ),
    threshold: float = typer.Option(0.5, "--threshold", help="dense maps: a pixel is positive above this value"),
    max_drop: float = typer.Option(
        5.0, "--max-drop", help="out of distribution: a strength costing more than this many points of the metric"
    ),
    confidence: float = typer.Option(
        0.7, "--confidence", help="a class probability at or above this is a confident answer"
    ),
    break_share: float = typer.Option(
        0.25,
        "--break-share",
        help="label-breaking: this share (or more) of a class's confident images become one other class, confidently",
    ),
    value_range: str = typer.Option(
        "auto", "--value-range", help="the train tensor's value range the transforms work in: auto | LO,HI (e.g. 0,255)"
    ),
    seed: int = typer.Option(
        0, "--seed", help="seeds every transform's randomness (per transform, strength, image) and --sample"
    ),
    sample: str | None = typer.Option(
        None,
        "--sample",
        help="audit a seeded sample of the images: a number (1000), a fraction (0.01) or a percentage (1%), drawn per label",
    ),
    workers: str = typer.Option(
        "auto",
        "--workers",
        help="decode with the train pipeline in N worker processes (0 or auto: in this process; worth it when decoding is dear next to the model passes); the report is the same whatever N",
    ),
    report: list[Path] = typer.Option(
        [], "--report", help="write a report: .json, .md, .xml (JUnit), .html; may repeat"
    ),
    report_format: str | None = typer.Option(
        None, "--format", help="json | markdown | junit | html when the extension does not tell"
    ),
    fail_on: str = typer.Option("major", "--fail-on", help="gate: critical | major | minor | never"),
    device: str = typer.Option("auto", "--device", help="cpu | gpu | auto"),
    unsafe_load: bool = typer.Option(False, "--unsafe-load", help="load Keras models with safe_mode=False"),
    example: bool = typer.Option(
        False, "--example", help="the bundled digit classifier with skewcheck/example/augment.toml"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no terminal report"),
    verbose: bool = typer.Option(
        False, "--verbose", help="let TensorFlow's native logs through; tracebacks of internal errors"
    ),
) -> None:
    set_verbose(verbose)
    if example:
        from skewcheck.example import HERE, example_arguments

        args = example_arguments()
        model = model or args["model"]
        train = train or args["train"]
        augment = augment or str(HERE / "augment.toml")
        images = images or Path(args["images"])
        labels = labels or Path(args["labels"])
    missing = [
        flag
        for flag, value in (("--model", model), ("--train", train), ("--augment", augment), ("--images", images))
        if not value
    ]
    if missing:
        fail_usage(f"augment: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required (or --example)")
    from skewcheck.augment.api import audit_policy
    from skewcheck.augment.report import format_for, write

    try:
        for path in report:
            format_for(path, report_format)
        result = audit_policy(
            model=model,
            train=train,  # type: ignore[arg-type]
            augment=augment,  # type: ignore[arg-type]
            images=images,  # type: ignore[arg-type]
            labels=labels,
            class_names=class_names,
            task=task,
            threshold=threshold,
            postprocess=postprocess,
            fail_on=fail_on,
            max_drop=max_drop,
            confidence=confidence,
            break_share=break_share,
            value_range=value_range,
            seed=seed,
            device=device,
            unsafe_load=unsafe_load,
            sample=sample,
            workers=workers,
        )
        for path in report:
            write(result, path, report_format)
    except UsageError as exc:
        fail_usage(str(exc))
        return
    except AuditError as exc:
        typer.echo(f"skewcheck: audit could not run: {visible(exc)}", err=True)
        raise typer.Exit(ExitCode.AUDIT) from None
    except Exception as exc:  # a bug of ours: one line, the traceback only with --verbose
        if verbose:
            raise
        typer.echo(f"skewcheck: internal error: {type(exc).__name__}: {visible(exc)} (rerun with --verbose)", err=True)
        raise typer.Exit(ExitCode.AUDIT) from None
    if not quiet:
        from skewcheck.augment.terminal import render_terminal
        from skewcheck.report.terminal import console_for

        render_terminal(result.to_dict(), console_for())
    raise typer.Exit(result.exit_code)
