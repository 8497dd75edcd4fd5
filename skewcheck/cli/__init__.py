"""The command line: a thin typer shell over the Python API (exit codes: skewcheck.errors.ExitCode)."""

from __future__ import annotations

import atexit
import os
import sys

from skewcheck.cli import (  # noqa: F401  (each registers its command)
    augment,
    check_config,
    compare,
    inspect,
    probe_images,
    profile,
    snapshot,
)
from skewcheck.cli.app import app
from skewcheck.errors import AuditError, ExitCode, UsageError
from skewcheck.safe_text import visible

__all__ = ["app", "main"]


def main() -> None:
    try:
        try:
            app(standalone_mode=True)
        except UsageError as exc:
            print(f"skewcheck: error: {visible(exc)}", file=sys.stderr)
            sys.exit(ExitCode.USAGE)
        except AuditError as exc:
            print(f"skewcheck: audit could not run: {visible(exc)}", file=sys.stderr)
            sys.exit(ExitCode.AUDIT)
    except SystemExit as done:
        if not isinstance(done.code, (int, type(None))) or "tensorflow" not in sys.modules:
            raise
        exit_now(done.code or 0)


def exit_now(code: int) -> None:
    """Exit with ``code`` without the interpreter's teardown, once TensorFlow is loaded.

    The command's work is done: the reports are written and closed, the workers joined. What a
    normal exit would still run, the ``atexit`` callbacks (temporary folders, logging, Ray's
    shutdown, multiprocessing's cleanup), runs here; what is skipped is the finalisation of every
    loaded module and native object, which after TensorFlow's import takes about a second and a
    quarter on the benchmark machine (``benchmarks/vs_handwritten.py``) and changes nothing a user
    can see.
    """
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing left to say on it
            pass
    os._exit(code)
