"""Issue 10 item 5: whatever sits under --images, discovery lists files and says what it skipped."""

from __future__ import annotations

import json
import os
import threading

import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.images.discover import discover_images
from tests import hostile_pipelines as hp
from tests.conftest import photo_like, write_png

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX links and FIFOs")


@pytest.fixture
def tricky(tmp_path):
    root = tmp_path / "imgs"
    write_png(root / "a" / "0.png", photo_like(0, 16))
    write_png(root / "b" / "1.png", photo_like(1, 16))
    outside = write_png(tmp_path / "elsewhere" / "2.png", photo_like(2, 16))
    os.symlink(root / "loop1", root / "loop2")
    os.symlink(root / "loop2", root / "loop1")  # loop1 -> loop2 -> loop1
    os.symlink(root / "a", root / "b" / "up")  # a link to a folder
    os.symlink(root / "gone.png", root / "dangling.png")
    os.symlink(outside, root / "outside.png")  # a link to a file outside --images
    os.mkfifo(root / "b" / "pipe.jpg")
    return root


def test_discovery_lists_what_it_skipped_and_why(tricky):
    found = discover_images(tricky)
    names = [p.relative_to(tricky).as_posix() for p in found.files]
    assert names == ["outside.png", "a/0.png", "b/1.png"]
    reasons = {s["path"]: s["reason"] for s in found.skipped}
    assert reasons["loop1"] == reasons["loop2"] == "symlink loop"
    assert reasons["dangling.png"] == "dangling symlink"
    assert reasons["b/up"] == "symlink to a folder (not followed)"
    assert reasons["b/pipe.jpg"].startswith("not a regular file (FIFO")
    assert found.skipped_count == 5


def test_compare_survives_loops_and_fifos_and_reports_skipped_files(tricky, tmp_path):
    done = threading.Event()
    result: dict = {}

    def run():  # a FIFO opened for reading would block this thread forever
        result["report"] = skewcheck.compare(train=hp.pil, serve=hp.pil, images=tricky)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(120), "compare blocked (on the FIFO?)"
    report = result["report"]
    assert report.exit_code == 0 and report.summary["images"] == 3
    skipped = {s["path"]: s["reason"] for s in report.summary["skipped_files"]}
    assert set(skipped) == {"loop1", "loop2", "dangling.png", "b/up", "b/pipe.jpg"}
    assert json.loads(json.dumps(report.to_dict()))["summary"]["skipped_files"]


def test_cli_with_a_symlink_loop_is_not_exit_3(tricky, tmp_path, monkeypatch):
    monkeypatch.chdir(skewcheck.__path__[0] + "/..")
    out = tmp_path / "r.json"
    ref = "tests/hostile_pipelines.py:pil"
    res = CliRunner().invoke(
        app, ["compare", "--train", ref, "--serve", ref, "--images", str(tricky), "--quiet", "--report", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert len(json.loads(out.read_text())["summary"]["skipped_files"]) == 5


def test_snapshot_skips_fifos_too(tricky, tmp_path):
    from skewcheck.pipelines.snapshot import take_snapshot

    stats = take_snapshot(hp.pil, tmp_path / "golden.npz", images=tricky)
    assert stats.images == 3 and stats.ok == 3
