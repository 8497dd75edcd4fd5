"""The typer application the subcommands register on, and the one-line usage failure."""

from __future__ import annotations

from typing import NoReturn

import typer

from skewcheck import __version__
from skewcheck.errors import EXIT_CODES_HELP, ExitCode
from skewcheck.safe_text import visible

app = typer.Typer(
    name="skewcheck",
    help=(
        "Find training-serving skew in image models: run the same images through the training "
        "and the serving preprocessing, diff tensors and predictions, explain every mismatch.\n\n" + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"skewcheck {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    pass


def fail_usage(message: str) -> NoReturn:
    """One line on stderr, exit code 2 (control characters of file names and messages escaped)."""
    typer.echo(f"skewcheck: error: {visible(message)}", err=True)
    raise typer.Exit(ExitCode.USAGE)
