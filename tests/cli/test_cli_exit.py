"""The console entry point's exit: once TensorFlow is loaded it skips the interpreter's teardown
(skewcheck.cli.exit_now), and must still give the exit code, flush what it printed and run the
atexit callbacks a normal exit runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import atexit, sys, types
    marker, loaded, *argv = sys.argv[1:]
    if loaded == "tf":
        sys.modules.setdefault("tensorflow", types.ModuleType("tensorflow"))  # as after a model load
    atexit.register(lambda: open(marker, "w").write("atexit ran"))
    sys.stdout.write("unflushed output")  # no newline: still in the buffer when main() exits
    from skewcheck.cli import main
    sys.argv = ["skewcheck", *argv]
    main()
    """
)


def _run(tmp_path: Path, loaded: str, *argv: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    marker = tmp_path / "marker.txt"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(marker), loaded, *argv], capture_output=True, text=True, timeout=120
    )
    return proc, marker


@pytest.mark.parametrize("loaded", ["tf", "no-tf"])
@pytest.mark.parametrize(
    ("argv", "code", "stderr"),
    [
        (["--version"], 0, ""),
        (["compare", "--images", "/nonexistent/folder", "--model", "none"], 2, "skewcheck: error:"),
    ],
)
def test_exit_keeps_the_code_the_output_and_the_atexit_callbacks(
    tmp_path: Path, loaded: str, argv: list[str], code: int, stderr: str
) -> None:
    proc, marker = _run(tmp_path, loaded, *argv)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout.startswith("unflushed output")
    assert stderr in proc.stderr and "Traceback" not in proc.stderr
    assert marker.read_text() == "atexit ran"
