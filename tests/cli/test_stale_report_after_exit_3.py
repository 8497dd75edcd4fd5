"""Issue 24 item 6 (its last part): after a run that exits 3 without a report, the previous run's
report is not left at --report for CI to read as this run's (the interrupt path already removed it)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from skewcheck.cli import app

# Imports in the audit's process, refuses in a worker: the pool cannot start (AuditError, exit 3).
ONLY_OUTSIDE_WORKERS = """
import multiprocessing

import numpy as np

if multiprocessing.parent_process() is not None:
    raise RuntimeError("this pipeline refuses to load in a worker process")


def ones(data: bytes) -> np.ndarray:
    return np.ones((4, 4, 3), np.float32)
"""


def test_a_run_that_could_not_audit_removes_the_previous_passing_report(two_images, tmp_path):
    module = tmp_path / "only_outside_workers.py"
    module.write_text(ONLY_OUTSIDE_WORKERS)
    report = tmp_path / "report.json"
    ref = f"{module}:ones"
    args = ["compare", "--train", ref, "--serve", ref, "--images", str(two_images), "--quiet", "--report", str(report)]
    passing = CliRunner().invoke(app, [*args, "--workers", "0"])
    assert passing.exit_code == 0, passing.output
    assert json.loads(report.read_text())["verdict"] == "pass"

    failed = CliRunner().invoke(app, [*args, "--workers", "1"])
    assert failed.exit_code == 3
    assert not report.exists()
    assert failed.output.splitlines() == [
        "skewcheck: audit could not run: a worker process could not load the pipelines: "
        "UsageError: --train "
        f"'{ref}': importing it raised RuntimeError: this pipeline refuses to load in a worker process "
        f"(removed {report}, so that no stale report is left)"
    ]
