"""The command line: a thin typer shell over the Python API. The only place that knows exit codes."""

from __future__ import annotations

import sys

import typer

from skewcheck import __version__
from skewcheck.errors import AuditError, UsageError
from skewcheck.safe_text import visible

EXIT_CODES_HELP = (
    "Exit codes: 0 no skew at or above the gate; 1 skew found (gate failed); "
    "2 usage or configuration error; 3 the audit itself could not run."
)

app = typer.Typer(
    name="skewcheck",
    help=(
        "Find training-serving skew in image models: run the same images through the training "
        "and the serving preprocessing, diff tensors and predictions, explain every mismatch.\n\n"
        + EXIT_CODES_HELP
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


def fail_usage(message: str) -> None:
    """One line on stderr, exit code 2 (control characters of file names and messages escaped)."""
    typer.echo(f"skewcheck: error: {visible(message)}", err=True)
    raise typer.Exit(2)


from skewcheck.cli import compare as _compare_cmd  # noqa: E402,F401  (registers the command)
from skewcheck.cli import inspect as _inspect_cmd  # noqa: E402,F401
from skewcheck.cli import probe_images as _probe_cmd  # noqa: E402,F401
from skewcheck.cli import snapshot as _snapshot_cmd  # noqa: E402,F401


def main() -> None:
    try:
        app(standalone_mode=True)
    except UsageError as exc:
        print(f"skewcheck: error: {visible(exc)}", file=sys.stderr)
        sys.exit(2)
    except AuditError as exc:
        print(f"skewcheck: audit could not run: {visible(exc)}", file=sys.stderr)
        sys.exit(3)
