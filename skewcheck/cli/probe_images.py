"""`skewcheck probe-images`: write the probe set (decode traps) with its manifest.json."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import typer

from skewcheck.cli.app import app, fail_usage
from skewcheck.errors import UsageError
from skewcheck.safe_text import visible


def _print_catalogue() -> None:
    """One line per kind, grouped by category; plain text so it reads in any terminal width."""
    from skewcheck.probes import KINDS

    width = max(len(kind.name) for kind in KINDS)
    category = None
    for kind in KINDS:
        if kind.category != category:
            category = kind.category
            typer.echo(f"{'' if kind is KINDS[0] else chr(10)}{category}:")
        scope = "per image" if kind.per_base else "once     "
        typer.echo(f"  {kind.name:<{width}}  {scope}  {kind.description}")
    typer.echo(
        "\n--kinds takes kind or category names, comma-separated; 'per image' kinds use each base "
        "photo (bundled, or yours with --from)."
    )


@app.command("probe-images")
def probe_images(
    out_dir: Path | None = typer.Argument(
        None,
        help="Directory to write the probes and manifest.json into (created if missing).",
        show_default=False,
    ),
    source: Path | None = typer.Option(
        None,
        "--from",
        help="Derive the per-image probes from your own images (recursive) instead of the bundled photos.",
    ),
    kinds: str | None = typer.Option(
        None,
        "--kinds",
        help="Comma-separated kind or category names, e.g. 'truncated,icc,exif-orientation-6'.",
    ),
    list_kinds: bool = typer.Option(False, "--list", help="Print the catalogue of probe kinds and exit."),
    seed: int = typer.Option(0, "--seed", help="Seed for the randomised probes (corrupted bytes)."),
    max_side: int = typer.Option(
        512,
        "--max-side",
        min=0,
        help="With --from: downscale images whose long side exceeds this (0: keep size).",
    ),
) -> None:
    """Write images that expose decode-level skew (truncated files, ICC profiles, EXIF orientation,
    unusual formats, size traps, sentinels), each described in manifest.json."""
    if list_kinds:
        _print_catalogue()
        return
    if out_dir is None:
        fail_usage("probe-images: missing OUT_DIR (or use --list)")
        return
    if source is not None and not source.is_dir():
        fail_usage(f"--from: {source} is not a directory")
    kind_names = [name.strip() for name in kinds.split(",") if name.strip()] if kinds is not None else None
    if kinds is not None and not kind_names:
        fail_usage("--kinds: no kind given")

    from skewcheck.probes import write_probe_set

    started = time.perf_counter()
    try:
        result = write_probe_set(out_dir, source_dir=source, kinds=kind_names, seed=seed, max_side=max_side or None)
    except UsageError as exc:
        fail_usage(str(exc))
        return
    except OSError as exc:  # unwritable output directory, disk full
        fail_usage(f"cannot write probes to {out_dir}: {exc.strerror or exc}")
        return
    elapsed = time.perf_counter() - started
    _print_summary(result, out_dir, elapsed)


def _print_summary(result: object, out_dir: Path, elapsed: float) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from skewcheck.probes import CATEGORIES, ProbeSet

    assert isinstance(result, ProbeSet)
    counts = Counter(entry.category for entry in result.entries)
    expects = Counter(entry.expect for entry in result.entries)
    size = sum((out_dir / entry.file).stat().st_size for entry in result.entries)
    table = Table(show_header=True, header_style="bold")
    table.add_column("category")
    table.add_column("files", justify="right")
    for category in (*CATEGORIES, "base"):
        if counts[category]:
            table.add_row(category, str(counts[category]))
    console = Console(soft_wrap=False)
    console.print(table)
    console.print(
        f"{len(result.entries)} files ({size / 1024:,.0f} KiB): "
        f"{expects['same-as-base']} same-as-base, {expects['reject']} reject, {expects['either']} either; "
        f"written in {elapsed:.2f} s"
    )
    console.print(Text(f"manifest: {visible(result.manifest)}"))  # plain text: a path is never markup
    if result.skipped_sources:
        shown = ", ".join(result.skipped_sources[:5]) + (" ..." if len(result.skipped_sources) > 5 else "")
        line = Text(f"skipped {len(result.skipped_sources)} unreadable source image(s):", style="yellow")
        console.print(line.append(f" {visible(shown)}", style=""))
