"""The command line: a thin typer shell over the Python API (exit codes: skewcheck.errors.ExitCode)."""

from __future__ import annotations

import sys

from skewcheck.cli import compare, inspect, probe_images, snapshot  # noqa: F401  (each registers its command)
from skewcheck.cli.app import app
from skewcheck.errors import AuditError, ExitCode, UsageError
from skewcheck.safe_text import visible

__all__ = ["app", "main"]


def main() -> None:
    try:
        app(standalone_mode=True)
    except UsageError as exc:
        print(f"skewcheck: error: {visible(exc)}", file=sys.stderr)
        sys.exit(ExitCode.USAGE)
    except AuditError as exc:
        print(f"skewcheck: audit could not run: {visible(exc)}", file=sys.stderr)
        sys.exit(ExitCode.AUDIT)
