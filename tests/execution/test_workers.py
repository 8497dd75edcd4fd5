"""`--workers N`: pipelines in worker processes give the same report, and a crashing one is recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.errors import UsageError
from skewcheck.execution.pool import PipelinePool, exit_text

REF = "tests/pipelines_for_tests.py:"


pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


def without_timings(value: Any) -> Any:
    """The report minus what differs between two runs in one process too: clock times, the
    memory addresses that some exception messages carry (``<_io.BytesIO object at 0x7f...>``), and
    how the images folder was named (``images_root``: a path, or its ``file://`` URI under Ray)."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in ("seconds", "images_root")}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    if isinstance(value, str):
        return re.sub(r" at 0x[0-9a-fA-F]+", " at 0x…", value)
    return value


def test_two_workers_give_the_same_report_as_in_process(image_dir):
    reports = [
        skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_raw", images=image_dir, workers=n).to_dict()
        for n in (0, 2)
    ]
    in_process, pooled = (without_timings(r) for r in reports)
    assert in_process["findings"][0]["kind"] == "scale"
    assert pooled["findings"] == in_process["findings"]
    assert pooled["images"] == in_process["images"]
    assert pooled == in_process


def test_repeat_runs_still_catch_randomness_in_workers(image_dir):
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_unit_noisy", images=image_dir, workers=2)
    finding = next(f for f in report.findings if f.kind == "nondeterminism")
    assert finding.side == "serve"


def test_a_segfault_is_recorded_against_its_image_and_the_run_goes_on(image_dir):
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "segfault_on_b", images=image_dir, workers=1)
    assert report.exit_code == 1
    assert "pipeline-error" in [f.kind for f in report.findings]
    by_path = {i["path"]: i for i in report.images}
    assert len(by_path) == 7
    for path, image in by_path.items():
        if path.startswith("b/"):  # notes.jpg too: the pipeline crashes before it reads a byte
            assert image["serve"]["status"] == "pipeline-error"
            assert image["serve"]["error_type"] == "WorkerCrashed"
            assert "SIGSEGV" in image["serve"]["error"]
        else:
            assert image["train"]["status"] == image["serve"]["status"] == "ok"
            assert "tensor" in image["metrics"]
    assert by_path["b/img3.png"]["train"]["status"] == "ok"  # the other side's run is kept
    assert report.summary["compared"] == 3


def test_an_exit_names_its_status_and_other_images_are_compared(image_dir):
    report = skewcheck.compare(train=REF + "exits_on_img4", serve=REF + "pil_unit", images=image_dir, workers=2)
    crashed = next(i for i in report.images if i["path"] == "b/img4.png")
    assert crashed["train"]["error_type"] == "WorkerCrashed"
    assert "exit code 3" in crashed["train"]["error"]
    assert crashed["serve"]["status"] == "ok"  # run by the replacement worker
    others = [i for i in report.images if i["path"].endswith(".png") and i["path"] != "b/img4.png"]
    assert len(others) == 5 and all(i["train"]["status"] == i["serve"]["status"] == "ok" for i in others)


def test_a_crash_on_the_repeat_run_is_nondeterminism(image_dir):
    report = skewcheck.compare(
        train=REF + "segfault_on_second_run", serve=REF + "pil_unit", images=image_dir, workers=1
    )
    kinds = [f.kind for f in report.findings]
    assert "nondeterminism" in kinds
    first = report.images[0]
    assert first["train"]["status"] == "ok" and first["serve"]["status"] == "ok"


def test_timeout_stops_a_hanging_run(image_dir):
    report = skewcheck.compare(
        train=REF + "hangs_on_img4", serve=REF + "pil_unit", images=image_dir, workers=2, timeout=1.0
    )
    hung = next(i for i in report.images if i["path"] == "b/img4.png")
    assert hung["train"]["error_type"] == "PipelineTimeout"
    assert hung["serve"]["status"] == "ok"
    assert report.exit_code == 1


def test_cli_workers_flag_gives_the_same_json(image_dir, tmp_path):
    runner = CliRunner()
    outputs = []
    for n in ("0", "2"):
        out = tmp_path / f"r{n}.json"
        result = runner.invoke(
            app,
            [
                "compare",
                "--quiet",
                "--train",
                REF + "pil_unit",
                "--serve",
                REF + "pil_raw",
                "--images",
                str(image_dir),
                "--workers",
                n,
                "--report",
                str(out),
            ],
        )
        assert result.exit_code == 1, result.output
        outputs.append(without_timings(json.loads(out.read_text())))
    assert outputs[1]["findings"] == outputs[0]["findings"]
    assert outputs[1]["images"] == outputs[0]["images"]


def test_cli_rejects_negative_workers(image_dir):
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--quiet",
            "--train",
            REF + "pil_unit",
            "--serve",
            REF + "pil_raw",
            "--images",
            str(image_dir),
            "--workers",
            "-1",
        ],
    )
    assert result.exit_code == 2


def _callable(data: bytes) -> Any:
    from tests.pipelines_for_tests import pil_unit

    return pil_unit(data)


def test_a_python_callable_with_workers_is_a_usage_error(image_dir):
    with pytest.raises(UsageError, match="reference string") as info:
        skewcheck.compare(train=_callable, serve=REF + "pil_raw", images=image_dir, workers=2)
    assert "\n" not in str(info.value)
    # in-process, the same callable is fine
    assert skewcheck.compare(train=_callable, serve=REF + "pil_raw", images=image_dir).exit_code == 1


def test_timeout_without_workers_is_a_usage_error(image_dir):
    with pytest.raises(UsageError, match="--workers"):
        skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_raw", images=image_dir, timeout=5, workers=0)


def test_timeout_with_the_default_workers_starts_one(image_dir):
    """``workers="auto"`` (the default) keeps a small audit in-process, unless a timeout needs a worker."""
    report = skewcheck.compare(train=REF + "hangs_on_img4", serve=REF + "pil_unit", images=image_dir, timeout=1.0)
    hung = next(i for i in report.images if i["path"] == "b/img4.png")
    assert hung["train"]["error_type"] == "PipelineTimeout"


@pytest.mark.parametrize(
    ("images", "references", "timeout", "cpus", "expected"),
    [
        (1000, True, None, 2, 1),  # 2 cores: one worker, the main process keeps the other
        (1000, True, None, 1, 0),  # 1 core: in-process
        (499, True, None, 2, 0),  # a small audit: the worker's start costs more than it saves
        (1000, False, None, 4, 0),  # a Python callable cannot travel to a worker
        (10, True, 5.0, 1, 1),  # a timeout needs a worker, even on one core
        (10**6, True, None, 64, 8),
    ],
)
def test_auto_workers(images, references, timeout, cpus, expected):
    from skewcheck.worker_count import auto_workers

    assert auto_workers(images, references, timeout, cpus=cpus) == expected


@pytest.mark.parametrize("bad", ["x", "-1", -2, "1.5"])
def test_bad_workers_is_a_usage_error(image_dir, bad):
    with pytest.raises(UsageError, match="--workers"):
        skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_raw", images=image_dir, workers=bad)


def test_the_pool_keeps_at_most_per_worker_images_per_worker_in_flight(image_dir):
    from skewcheck.execution.pool import PER_WORKER

    files = sorted(p for p in image_dir.rglob("*") if p.is_file()) * 20  # 140: more than the window
    pulled = 0

    def source():
        nonlocal pulled
        for path in files:
            pulled += 1
            yield path, False

    in_flight = []
    with PipelinePool({"train": REF + "pil_unit", "serve": REF + "pil_raw"}, image_dir, 2) as pool:
        for given, runs in enumerate(pool.imap(source()), start=1):
            in_flight.append(pulled - given + 1)
            assert runs.path == files[given - 1]
    assert len(in_flight) == len(files)
    assert max(in_flight) <= 2 * PER_WORKER < len(files)


def test_exit_text_names_signals():
    assert exit_text(-11) == "SIGSEGV"
    assert exit_text(3) == "exit code 3"
    assert "out of memory" in exit_text(-9)


def test_the_example_with_workers_gives_the_same_report(example_report):
    """The model loads while the workers decode (its import overlapped), chunks prefetched: same report."""
    from skewcheck.example import example_arguments

    pooled = skewcheck.compare(**example_arguments(), workers=2, batch_size=7)
    assert [f.kind for f in pooled.findings] == [f.kind for f in example_report.findings]
    assert without_timings(pooled.to_dict()) == without_timings(example_report.to_dict())


@pytest.fixture(scope="module")
def bgr_pair(skew_probes):
    """A skewed pair on the probe set, and its in-process report (the reference the others must equal)."""
    args = {
        "train": "tests/skew_pairs.py:reference",
        "serve": "tests/skew_pairs.py:serve_opencv_bgr_nearest",
        "images": skew_probes,
    }
    return args, without_timings(skewcheck.compare(**args, workers=0).to_dict())


@pytest.mark.parametrize(("workers", "batch_size"), [(1, 3), (2, 32)])
def test_a_skewed_probe_pair_gives_the_same_report_with_workers_and_any_chunk(bgr_pair, workers, batch_size):
    args, in_process = bgr_pair
    pooled = skewcheck.compare(**args, workers=workers, batch_size=batch_size).to_dict()
    assert {f["kind"] for f in in_process["findings"]} >= {"channel-order"}
    assert without_timings(pooled) == in_process


@pytest.mark.parametrize("backlog_chunks", [0, 10**6])
def test_the_same_report_whichever_process_measures_the_facts(bgr_pair, monkeypatch, backlog_chunks):
    """0: the worker measures every pair's facts; 10**6: the audit's process measures nearly all."""
    import skewcheck.execution.engine

    args, in_process = bgr_pair
    monkeypatch.setattr(skewcheck.execution.engine, "FACTS_BACKLOG_CHUNKS", backlog_chunks)
    pooled = skewcheck.compare(**args, workers=1, batch_size=4).to_dict()
    assert without_timings(pooled) == in_process


def test_large_tensors_leave_their_facts_to_the_audit(bgr_pair, monkeypatch):
    """Above FACTS_MAX_BYTES the pair's facts are not measured next to the tensors: same report."""
    import skewcheck.execution.image_runs

    args, measured = bgr_pair
    monkeypatch.setattr(skewcheck.execution.image_runs, "FACTS_MAX_BYTES", 0)
    left = skewcheck.compare(**args, workers=0).to_dict()
    assert without_timings(left) == measured


@pytest.fixture(scope="module")
def skew_probes(tmp_path_factory):
    from skewcheck.probes import write_probes

    root = tmp_path_factory.mktemp("probes")
    write_probes(root, kinds=["clean-jpeg-q95", "clean-png", "sentinel-channel-order", "rgba", "exif-orientation-6"])
    return root


def test_prefetch_keeps_order_raises_at_its_place_and_stops_its_source():
    from skewcheck.execution.prefetch import Prefetch

    def source():
        yield from range(5)
        raise RuntimeError("pipeline pool gone")

    closed = []
    items = Prefetch(source(), depth=2, on_close=lambda *exc: closed.append(exc[0]))
    got = []
    with pytest.raises(RuntimeError, match="pool gone"):
        for item in items:
            got.append(item)
    items.close()
    assert got == [0, 1, 2, 3, 4] and closed == [GeneratorExit]  # not run to its end: workers are killed
    finished = Prefetch(iter(range(3)), depth=1, on_close=lambda *exc: closed.append(exc[0]))
    assert list(finished) == [0, 1, 2]
    finished.close()
    assert closed[-1] is None


def test_a_crash_is_pinned_on_its_run_while_earlier_reports_wait_to_be_read(image_dir):
    """The worker runs ahead of a parent that does not read (its reports wait in the outbox), then
    crashes: the crash is pinned by the run the worker marked, not by what the parent heard last."""
    import time

    from skewcheck.images.discover import iter_image_files

    files = list(iter_image_files(image_dir))
    got = {}
    refs = {"train": REF + "big_segfault_on_img4", "serve": REF + "pil_unit"}
    reached = image_dir / "img4-reached"  # touched by the pipeline just before it segfaults
    with PipelinePool(refs, image_dir, 1) as pool:
        for i, runs in enumerate(pool.imap((path, False) for path in files)):
            if i == 0:  # the worker runs img1 … img4 meanwhile: 6 MB reports, nobody reading
                deadline = time.monotonic() + 120
                while not reached.exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert reached.exists(), "the worker never reached img4 while the parent was not reading"
            got[runs.path.name] = runs
    crashed = got["img4.png"].first["train"]
    assert crashed.error_type == "WorkerCrashed" and "SIGSEGV" in crashed.error
    assert got["img4.png"].first["serve"].ok  # the other side ran on the replacement worker
    for name in ("img0.png", "img1.png", "img2.png", "img3.png", "img5.png"):
        assert got[name].first["train"].ok and got[name].first["serve"].ok, name
        assert got[name].first["train"].tensor.shape == (700, 700, 3)


def test_a_decode_handed_over_through_a_file_comes_back_the_same_and_leaves_nothing(tmp_path):
    import numpy as np

    from skewcheck.diagnose.facts import PairFacts
    from skewcheck.diagnose.measure.reference import Reference
    from skewcheck.diagnose.measure.rerender import RESIZERS, renders_of
    from skewcheck.execution import handoff

    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 200, 3), dtype=np.uint8)).save(path)
    ref = Reference(path)
    folder = handoff.HandoffDir()
    on_the_way = handoff.sent(PairFacts(False, None, None, ref.portable()), folder.path)
    assert isinstance(on_the_way.reference[0][0], handoff.Spilled)  # 180 KB: through a file, not the pipe
    facts = handoff.received(on_the_way)
    assert not list(Path(folder.path).iterdir())  # unlinked once mapped
    back = Reference.from_portable(path, facts.reference)
    assert np.array_equal(back.rgb, ref.rgb) and not back.rgb.flags.writeable
    RESIZERS["pil.bilinear"](back.rgb, (32, 32))
    assert len(renders_of(back.rgb)) == 1  # immutable pixels: their renders are memoised as Pillow's are
    folder.close()
    assert not Path(folder.path).exists()


def test_a_pooled_audit_leaves_no_handoff_folder(image_dir):
    """Only this process's folders are looked at (their names carry its pid): another test process
    (pytest-xdist) may be running a pool of its own meanwhile."""
    import os
    import tempfile

    places = [Path("/dev/shm"), Path(tempfile.gettempdir())]
    mine = f"skewcheck-handoff-{os.getpid()}-*"
    before = {p for place in places if place.is_dir() for p in place.glob(mine)}
    skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_raw", images=image_dir, workers=1)
    after = {p for place in places if place.is_dir() for p in place.glob(mine)}
    assert after <= before


def test_a_killed_runs_handoff_folder_is_removed_by_the_next_pool(image_dir, tmp_path):
    """A run that ends without closing its pool (SIGKILL, the OOM killer) leaves its folder in
    /dev/shm; the next pool removes it, and only the folders whose process is gone."""
    import os
    import subprocess
    import sys

    from skewcheck.execution.handoff import HandoffDir

    left = subprocess.run(
        [sys.executable, "-c", "from skewcheck.execution.handoff import HandoffDir; print(HandoffDir().path)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()  # the process ended without close(): as if killed
    assert Path(left).is_dir()
    live = Path(HandoffDir().path)  # this process's: alive
    try:
        skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_raw", images=image_dir, workers=1)
        assert not Path(left).exists()
        assert live.is_dir() and live.name.startswith(f"skewcheck-handoff-{os.getpid()}-")
    finally:
        import shutil

        shutil.rmtree(left, ignore_errors=True)
        shutil.rmtree(live, ignore_errors=True)
