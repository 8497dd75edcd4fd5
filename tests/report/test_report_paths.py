"""Issue 24 item 13: a report goes where the user pointed, or is refused with one line.

A dangling symlink had its target's folders created (anywhere); a FIFO was replaced by a regular
file (its reader got nothing); ``--report >(…)``, a ``/dev/fd/N`` path, failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from tests.conftest import REPO

PIPELINE = "tests/hostile_pipelines.py:pil"

pytestmark = pytest.mark.usefixtures("run_from_repo")


def _args(images: Path, report: Path | str) -> list[str]:
    return ["compare", "--train", PIPELINE, "--serve", PIPELINE, "--images", str(images), "--quiet"] + [
        "--format",
        "json",
        "--report",
        str(report),
    ]


def test_a_dangling_symlink_is_refused_and_nothing_is_created(two_images, tmp_path):
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "elsewhere" / "deep" / "r.json")
    result = CliRunner().invoke(app, _args(two_images, link))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"skewcheck: error: cannot write report {link}: it is a dangling symlink "
        f"(to {tmp_path}/elsewhere/deep/r.json); point it at an existing file, or remove it"
    ]
    assert not (tmp_path / "elsewhere").exists() and link.is_symlink()


def test_a_fifo_gets_the_report_and_stays_a_fifo(two_images, tmp_path):
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = CliRunner().invoke(app, _args(two_images, fifo))
    reader.join(30)
    assert result.exit_code == 0, result.output
    assert json.loads(received[0])["summary"]["compared"] == 2
    assert fifo.is_fifo()


def test_a_dev_fd_path_from_process_substitution_gets_the_report(two_images):
    read_end, write_end = os.pipe()
    received: list[bytes] = []

    def read() -> None:
        with os.fdopen(read_end, "rb") as pipe:
            received.append(pipe.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "skewcheck", *_args(two_images, f"/dev/fd/{write_end}")],
            pass_fds=(write_end,),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
    finally:
        os.close(write_end)  # the reader sees the end once the child's copy is closed too
    reader.join(30)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(received[0])["summary"]["compared"] == 2
