"""`skewcheck profile`: what real (production) inputs look like, and how they drift from a
reference set, without a model (Pillow and NumPy only: TensorFlow is never imported)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from skewcheck.cli.app import app, fail_usage
from skewcheck.errors import UsageError
from skewcheck.safe_text import visible


@app.command(
    "profile",
    help=(
        "Profile real inputs without a model: container format, mode, bit depth, alpha, size, EXIF "
        "orientation, ICC profile, CMYK, progressive, chroma subsampling, JPEG quality, truncation, "
        "animation, pixel statistics; with --reference, the drift of each property. Feed the JSON "
        "report to `compare --traffic` to weight findings by production traffic. Exit codes: 0 "
        "profiled; 2 usage error."
    ),
)
def profile_cmd(
    images: str = typer.Option(
        ...,
        "--images",
        help="folder of images (recursive, every file), or a URI pyarrow reads (s3://bucket/prefix, gs://..., file:///...)",
    ),
    reference: str | None = typer.Option(
        None, "--reference", help="folder (or URI) of reference images, e.g. the training set: drift per property"
    ),
    report: list[Path] = typer.Option(
        [],
        "--report",
        help="write the profile; format from the extension: .json (skewcheck.profile/v2, for compare --traffic), .md, .xml (JUnit), .html; may repeat",
    ),
    sample: str | None = typer.Option(
        None,
        "--sample",
        help="profile a seeded sample of --images: a number (1000), a fraction (0.01) or a percentage (1%)",
    ),
    pixel_sample: str = typer.Option(
        "500",
        "--pixel-sample",
        help=(
            "decode this many files of each set in full (pixel statistics, corruption the headers do not show), "
            "a seeded sample; every file's headers are read whatever it is: a number, a fraction, a percentage, "
            "0 (none) or all"
        ),
    ),
    seed: int = typer.Option(0, "--seed", help="picks the samples and seeds the drift's permutations"),
    workers: str = typer.Option(
        "auto",
        "--workers",
        help=(
            "read files in N processes (0: in this process; auto: one per core but one, with 4 cores or more and "
            "5,000 files or more, else with 2 cores or more one helper process that decodes the pixel sample)"
        ),
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no terminal output"),
) -> None:
    if "numpy" not in sys.modules:  # a profile does no BLAS work: NumPy's BLAS starts no thread pool
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from skewcheck.profile.write import profile_format, write_profile

    try:
        for path in report:
            profile_format(path)
        from skewcheck.profile import profile

        result = profile(images, reference, sample=sample, pixel_sample=pixel_sample, seed=seed, workers=workers)
        for path in report:
            write_profile(result, path)
    except UsageError as exc:
        fail_usage(str(exc))
        return
    if not quiet:
        from skewcheck.profile.render_terminal import console_for, render

        render(result.to_dict(), console_for())
    result.close()
    for path in report:
        if not quiet:
            typer.echo(f"wrote {visible(path)}")
