"""Ctrl-C and SIGTERM end `compare --workers` cleanly: one line, 130/143, no worker left behind,
no report (not even the previous run's, which would pass for this one's)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

REF = "tests/pipelines_for_tests.py:"


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid``, from /proc (no psutil needed)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _start(image_dir: Path, report: Path, train: str = "hangs_marked") -> tuple[subprocess.Popen, list[int]]:
    """An audit with 2 workers, each in the train pipeline; returns once both are busy: two worker
    processes have each marked a started run (``started-PID`` files, tests/pipelines_for_tests.py)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skewcheck.cli",
            "compare",
            "--train",
            REF + train,
            "--serve",
            REF + "slow_unit",
            "--images",
            str(image_dir),
            "--workers",
            "2",
            "--report",
            str(report),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    busy: set[int] = set()
    while len(busy) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the files, not waiting a guessed time
        busy = {int(p.name.split("-")[1]) for p in image_dir.glob("started-*")}
    kids = _children(proc.pid)
    assert len(busy) == 2 and busy <= set(kids) and proc.poll() is None, proc.communicate()
    return proc, kids


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.fixture
def reap():
    started: list[int] = []
    yield started
    for pid in started:  # whatever a failed test left behind
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_workers_and_writes_no_report(image_dir, tmp_path, reap, sig, code):
    report = tmp_path / "r.json"
    report.write_text('{"verdict": "pass"}\n')  # the previous run's report
    proc, kids = _start(image_dir, report)
    reap += kids
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert err.splitlines() == [
        f"skewcheck: interrupted: no report written (removed {report}, so that no stale report is left)"
    ]
    assert not report.exists() and list(tmp_path.glob(".r.json*")) == []
    assert _wait_gone(kids, 5) == []


@pytest.mark.parametrize("train", ["hangs_marked", "slow_unit_marked"])
def test_workers_do_not_outlive_a_killed_parent(image_dir, tmp_path, reap, train):
    proc, kids = _start(image_dir, tmp_path / "r.json", train)
    reap += kids
    proc.kill()  # SIGKILL: no handler runs in the parent; the workers' watchdogs must see it
    # stderr is read to its end: every process holding it (the workers, which inherit it) has
    # exited, so a slow_unit run that ended meanwhile has printed whatever it was going to print
    _, err = proc.communicate(timeout=30)
    assert _wait_gone(kids, 5) == []  # a hung worker is not left under PID 1
    assert "Traceback" not in err  # a worker whose run ended after its parent prints no BrokenPipe
