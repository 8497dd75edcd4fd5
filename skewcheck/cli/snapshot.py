"""`skewcheck snapshot`: record one pipeline's tensors into a golden .npz that ships with the model."""

from __future__ import annotations

from pathlib import Path

import typer

from skewcheck.cli.app import app, fail_usage
from skewcheck.errors import UsageError
from skewcheck.native import set_verbose
from skewcheck.safe_text import visible


@app.command("snapshot")
def snapshot_cmd(
    pipeline: str | None = typer.Option(
        None, "--pipeline", "-p", help="the pipeline to record: pkg.module:fn or file.py:fn"
    ),
    images: Path | None = typer.Option(
        None, "--images", help="folder of images (recursive); default: the built-in probe set"
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="the golden file to write, e.g. golden.npz"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing on success"),
    verbose: bool = typer.Option(False, "--verbose", help="let TensorFlow's and decoders' native logs through"),
) -> None:
    """Record a pipeline's tensors (exact dtype and shape) or errors for every image, with the
    sha256 of each file, into a golden .npz. Replay it later with `compare --train golden.npz`."""
    set_verbose(verbose)
    if not pipeline:
        fail_usage("snapshot: --pipeline is required")
        return
    if out is None:
        fail_usage("snapshot: -o/--out is required (e.g. -o golden.npz)")
        return
    from skewcheck.pipelines.snapshot import take_snapshot

    try:
        stats = take_snapshot(pipeline, out, images=images)
    except UsageError as exc:
        fail_usage(str(exc))
        return
    if quiet:
        return
    errors = ", ".join(f"{n} {status}" for status, n in sorted(stats.errors.items())) or "no errors"
    typer.echo(
        f"wrote {visible(out)} ({_size(stats.bytes_written)}): {stats.images} images, {stats.ok} tensors, {errors}"
    )


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"
