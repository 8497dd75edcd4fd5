"""Shared fixtures: tiny images and pipelines written as users write them."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The built-in probe set is generated into a cache: the suite's own, never the user's ~/.cache
# (subprocesses started by tests inherit it). Removed when the session ends.
_CACHE = tempfile.mkdtemp(prefix="skewcheck-test-cache-")
os.environ["SKEWCHECK_CACHE_DIR"] = _CACHE

REPO = Path(__file__).resolve().parents[1]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)


# Tests of about 5 s or more each on the 2-core development machine (pytest --durations), besides
# those marked ``ray`` or ``serving`` (slow too): marked ``slow`` here, so that ``pytest -m "not slow"``
# is the quick set while developing (CONTRIBUTING.md). The default ``pytest`` runs every test.
SLOW_FILES = {"tests/e2e/test_skew_matrix.py"}  # the generated matrix's slice (that file is another owner's)
SLOW = {
    "tests/cli/test_cli_augment.py": {
        "test_the_report_is_the_same_with_0_1_and_2_workers",
        "test_chunks_change_nothing_but_the_chunk_count",
    },
    "tests/models/test_corrupt_models.py": {"test_a_crashing_tflite_file_is_a_usage_error"},
    "tests/e2e/test_docs.py": {
        "test_doc_excerpts_are_what_the_documented_commands_print",
        "test_models_page_example_runs_are_what_the_documented_commands_print",
        "test_augment_page_runs_are_what_the_documented_commands_print",
    },
    "tests/diagnose/test_fact_hints.py": {"test_later_pairs_are_named_with_their_facts_and_the_report_is_the_same"},
    "tests/e2e/test_fuzz_keras_archives.py": {"test_mutated_keras_archives_load_or_are_one_usage_error_line"},
    "tests/ci/test_github_action.py": {
        "test_the_step_on_the_example_fails_the_job_and_fills_summary_and_outputs",
        "test_fail_on_skew_false_reports_the_skew_without_failing",
    },
    "tests/comparison/test_heads.py": {"test_yolov8_builtin_postprocess_judges_detections"},
    "tests/cli/test_interrupt.py": {"test_a_signal_stops_workers_and_writes_no_report"},
    "tests/models/test_model_memory_bounds.py": {
        "test_a_tflite_file_asking_for_memory_without_end_is_refused_within_a_limit"
    },
    "tests/models/test_models.py": {"test_import_is_lazy_and_tflite_logs_are_captured"},
    "tests/e2e/test_mutation_corpus.py": {"test_opencv_vs_tf_with_workers"},
    "tests/cli/test_readable_output.py": {"test_tensorflow_import_noise_stays_out_of_a_usage_error"},
    "tests/report/test_reports.py": {"test_html_renders_in_headless_chromium"},
    "tests/diagnose/detectors/test_roundtrip_false_positive.py": {"test_bgr_service_is_channel_order_and_resize_only"},
    "tests/e2e/test_skew_suite.py": {"test_multi_cause_first_finding_is_the_repair_that_recovers_most"},
    "tests/cli/test_stale_report_after_exit_3.py": {
        "test_a_run_that_could_not_audit_removes_the_previous_passing_report"
    },
    "tests/execution/test_workers.py": {"test_the_example_with_workers_gives_the_same_report"},
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers: ``serving`` on tests that start the example KServe server (test_serving.py's
    ``server`` fixture); ``slow`` on those, on ``ray`` tests and on the tests listed above."""
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path == "tests/serving/test_serving.py" and "server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.serving)
        name = getattr(item, "originalname", item.name)
        if (
            path in SLOW_FILES
            or name in SLOW.get(path, ())
            or any(item.iter_markers("ray"))
            or any(item.iter_markers("serving"))
        ):
            item.add_marker(pytest.mark.slow)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` (pyproject's addopts) hands out the slowest files first: tests/xdist_schedule.py."""
    if config.getvalue("dist") != "loadfile":
        return None  # another --dist asked for on the command line: xdist's own
    from tests.xdist_schedule import HeaviestFirst

    return HeaviestFirst(config, log)


@dataclass(frozen=True)
class ExampleStory:
    """The bundled example's figures, pinned once: trained on /255, served raw uint8."""

    images: int = 60
    flips: int = 17  # every one of them the scale's
    correct_train: int = 57  # accuracy 0.95
    correct_serve: int = 43  # accuracy 0.716667; also the top-1 agreement (43 of 60 agree)

    @property
    def flip_rate(self) -> float:
        return self.flips / self.images


EXAMPLE = ExampleStory()
EXAMPLE_REPORTS = ("r.json", "r.md", "r.xml", "r.html", "summary.txt")


@pytest.fixture(scope="session")
def example_report():
    """``skewcheck.compare`` on the bundled example, run once per test session."""
    import skewcheck
    from skewcheck.example import example_arguments

    return skewcheck.compare(**example_arguments())


@pytest.fixture(scope="session")
def example_cli(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``skewcheck compare --example`` once per session, every report format written in that run:
    {"result": CliRunner result, "paths": {name: Path}, "json": parsed JSON report}."""
    from typer.testing import CliRunner

    from skewcheck.cli import app

    out = tmp_path_factory.mktemp("example-reports")
    paths = {name: out / "out" / name for name in EXAMPLE_REPORTS}
    args = [a for p in paths.values() for a in ("--report", str(p))]
    result = CliRunner().invoke(app, ["compare", "--example", "--quiet", *args, "--format", "markdown"])
    return {"result": result, "paths": paths, "json": json.loads(paths["r.json"].read_text())}


def photo_like(seed: int, size: int = 24) -> np.ndarray:
    """A smooth, asymmetric RGB image: gradients per channel plus seeded blobs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    channels = []
    for c in range(3):
        a, b, ph = rng.uniform(0.5, 3, 3)
        channels.append(0.5 + 0.45 * np.sin(a * 3 * x + b * 2 * y + ph * (c + 1)))
    rgb = np.stack(channels, -1)
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def write_png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


WIDE_PHOTOS = 20  # more than the settling searches (16) and resize naming (12) look at


@pytest.fixture(scope="module")
def wide_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 landscape crops of a photo: squashing and centre-cropping them frame them differently."""
    import skimage.data

    folder = tmp_path_factory.mktemp("wide")
    photo = np.asarray(skimage.data.astronaut())
    rng = np.random.default_rng(5)
    for i in range(WIDE_PHOTOS):
        y, x = int(rng.integers(0, 200)), int(rng.integers(0, 100))
        Image.fromarray(photo[y : y + 180, x : x + 320]).save(folder / f"{i:02d}.png")
    return folder


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    """Six small PNGs in two folders, plus one text file named .jpg (production garbage)."""
    root = tmp_path / "images"
    for i in range(6):
        write_png(root / ("a" if i < 3 else "b") / f"img{i}.png", photo_like(i))
    (root / "b" / "notes.jpg").write_text("this is not an image\n")
    return root


def jpeg_bytes(array: np.ndarray, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture
def run_from_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository root: pipeline references like 'tests/x.py:fn' are relative to it."""
    monkeypatch.chdir(REPO)


def hostile_audit(serve: str, images: Path, workers: int) -> tuple[subprocess.CompletedProcess[str], dict]:
    """The CLI in a subprocess, time-limited (some hostile pipelines once hung the pool): train is
    ``tests/hostile_pipelines.py:pil``, serve that file's ``serve``; the exit, stderr and JSON report."""
    report = images.parent / f"report-{workers}.json"
    ref = "tests/hostile_pipelines.py:"
    args = ["--train", ref + "pil", "--serve", ref + serve, "--images", str(images), "--workers", str(workers)]
    done = subprocess.run(
        [sys.executable, "-m", "skewcheck", "compare", *args, "--quiet", "--fail-on", "never", "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    return done, json.loads(report.read_text()) if report.exists() else {}


@pytest.fixture
def two_images(tmp_path: Path) -> Path:
    root = tmp_path / "imgs"
    for i in range(2):
        write_png(root / f"{i}.png", photo_like(i, 16))
    return root


def photo_crops(
    root: Path,
    count: int,
    seed: int,
    size: Callable[[np.random.Generator], tuple[int, int]],
    suffix: str = ".png",
    **save: Any,
) -> list[str]:
    """``count`` seeded crops of scikit-image's photos (astronaut, coffee, chelsea in turn) into
    ``root``, named ``p00{suffix}``…; ``size`` draws each crop's (height, width). Returns the names."""
    import skimage.data

    root.mkdir(parents=True, exist_ok=True)
    sources = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea()]
    rng = np.random.default_rng(seed)
    names = []
    for i in range(count):
        src = sources[i % 3]
        h, w = size(rng)
        y, x = int(rng.integers(0, src.shape[0] - h)), int(rng.integers(0, src.shape[1] - w))
        names.append(f"p{i:02d}{suffix}")
        Image.fromarray(src[y : y + h, x : x + w]).save(root / names[-1], **save)
    return names
