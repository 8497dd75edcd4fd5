"""Issue 24 item 9: what a pipeline prints and the processes it starts stay out of the audit's
stdout, and a worker's processes do not outlive the audit.

A pipeline's print() output used to reach skewcheck's stdout (where its report goes) uncapped, and
a process it started held that stdout: ``out=$(skewcheck ...)`` waited for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_interrupt import _alive
from tests.conftest import REPO

HOSTILE = "tests/hostile_pipelines.py:"


def _compare(image_dir: Path, report: Path, train: str, workers: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "skewcheck.cli",
            "compare",
            "--train",
            HOSTILE + train,
            "--serve",
            HOSTILE + "pil",
            "--images",
            str(image_dir),
            "--workers",
            workers,
            "--report",
            str(report),
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,  # a pipe, as in out=$(skewcheck ...): read until every holder closes it
        timeout=90,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("workers", ["0", "1"])
def test_a_pipelines_prints_are_captured_and_capped_not_written_to_stdout(image_dir, tmp_path, workers):
    report = tmp_path / "r.json"
    proc = _compare(image_dir, report, "prints", workers)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == b""  # --quiet: nothing of the pipeline's 40,000 lines per image
    images = json.loads(report.read_text())["images"]
    said = [r["train"].get("native_warnings", []) for r in images if r["train"]["status"] == "ok"]
    assert len(said) == 6
    for lines in said:  # kept as that image's evidence, capped as its stderr is
        assert lines[0] == "debug: row 0 of the decoded image" and lines[-1].startswith("… "), lines[-3:]
        assert len(lines) <= 60


@pytest.mark.parametrize("workers", ["0", "1"])
def test_processes_a_pipeline_starts_do_not_hold_the_audits_stdout(image_dir, tmp_path, workers):
    pids = tmp_path / "pids.txt"
    start = time.monotonic()
    proc = _compare(image_dir, tmp_path / "r.json", "starts_a_process", workers, {"SKEWCHECK_TEST_PIDS": str(pids)})
    took = time.monotonic() - start
    children = [int(line) for line in pids.read_text().split()]
    try:
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert len(children) >= 6 and took < 60  # the children sleep 120 s
        if workers != "0":  # a worker's process group goes with it
            deadline = time.monotonic() + 5
            while any(_alive(p) for p in children) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert [p for p in children if _alive(p)] == []
    finally:
        for pid in children:
            if _alive(pid):
                os.kill(pid, 9)
