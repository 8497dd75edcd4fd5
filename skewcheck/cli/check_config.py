"""`skewcheck check-config`: the configuration and every reference in it resolve (no model run)."""

from __future__ import annotations

from pathlib import Path

import typer

from skewcheck.cli.app import app
from skewcheck.errors import ExitCode
from skewcheck.safe_text import visible


@app.command("check-config")
def check_config_cmd(
    specs: list[Path] | None = typer.Argument(
        None, help="declarative pipeline files (TOML with [pipelines.NAME] tables) to check whole"
    ),
    config: Path | None = typer.Option(
        None, "--config", help="configuration file; default: the nearest one from the working directory upwards"
    ),
    profile: str | None = typer.Option(None, "--profile", help="check this profile only (default: every profile)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print problems only"),
) -> None:
    """Check the configuration file (every key and value, every profile) and that each pipeline,
    model and file it names resolves: declarative specs are parsed and validated, callables are
    found in their module's source. Nothing is imported or run, no model is loaded: cheap enough
    for a pre-commit hook. Exit code 0 when all holds, 2 otherwise (one line per problem)."""
    from skewcheck.config.check import check_config

    checked, problems = check_config(path=config, profile=profile, specs=tuple(specs or ()))
    if not quiet:
        for line in checked:
            typer.echo(f"ok: {visible(line)}")
    for line in problems:
        typer.echo(f"skewcheck: error: {visible(line)}", err=True)
    if problems:
        raise typer.Exit(ExitCode.USAGE)
