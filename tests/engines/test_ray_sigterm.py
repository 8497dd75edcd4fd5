"""Issue 24 item 7: SIGTERM under `--engine ray` ends the run as it does locally: one line, exit
143, the previous run's report removed. Ray's core worker installs absl's failure signal handler
for SIGTERM at ``ray.init``; it used to replace skewcheck's (exit 15, a ``*** SIGTERM received``
dump, the stale report left). One test: a local Ray cluster takes ~10 s to start."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytest.importorskip("ray.data", reason="the [ray] extra is not installed (it is part of [test])")

pytestmark = pytest.mark.ray


def _ray_started(pid: int) -> bool:
    """The driver has a raylet among its descendants: ``ray.init`` has run (or is about to return)."""
    from tests.cli.test_interrupt import _children

    for child in _children(pid):
        try:
            if b"raylet" in Path(f"/proc/{child}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_sigterm_under_ray_exits_143_and_removes_the_stale_report(image_dir, tmp_path):
    report = tmp_path / "r.json"
    report.write_text('{"verdict": "pass"}\n')  # the previous run's report
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skewcheck.cli",
            "compare",
            "--engine",
            "ray",
            "--train",
            "tests/pipelines_for_tests.py:hangs_once_started",
            "--serve",
            "tests/pipelines_for_tests.py:pil_unit",
            "--images",
            str(image_dir),
            "--report",
            str(report),
            "--quiet",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = image_dir / "started"  # touched by the pipeline in Ray's workers
        deadline = time.monotonic() + 180
        while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert started.exists() and proc.poll() is None, f"the pipeline never started (exit {proc.poll()})"
        assert _ray_started(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, err[-3000:]
    assert err.splitlines() == [
        f"skewcheck: interrupted: no report written (removed {report}, so that no stale report is left)"
    ]
    assert not report.exists()
