"""`--engine ray`: the same report as the local engine, and lost Ray workers named, never silent.

Ray starts once for this module (2 CPUs, a small object store, no dashboard) and each audit joins
it; the engine leaves a cluster it did not start running.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.errors import UsageError
from skewcheck.report.markdown import render_markdown
from tests.conftest import REPO
from tests.execution.test_workers import without_timings

pytest.importorskip("ray.data", reason="the [ray] extra is not installed (it is part of [test])")

REF = "tests/pipelines_for_tests.py:"
HOSTILE = "tests/ray_pipelines.py:"
EXAMPLE_MODEL = str(REPO / "skewcheck" / "example" / "model.keras")
EXAMPLE_TRAIN, EXAMPLE_SERVE = (
    "skewcheck.example.pipelines:train_preprocess",
    "skewcheck.example.pipelines:serve_preprocess",
)

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("run_from_repo", "ray_cluster")]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    import ray

    from skewcheck.engines.ray_engine import init_local

    init_local(num_cpus=2, object_store_memory=200 * 2**20)
    yield
    ray.shutdown()


def same_report(local: dict[str, Any], ray: dict[str, Any]) -> dict[str, Any]:
    """Assert the two reports are equal field by field, timings and summary.engine aside; return
    the Ray engine's summary.engine."""
    engine = ray["summary"].pop("engine")
    assert "engine" not in local["summary"]
    local, ray = without_timings(local), without_timings(ray)
    assert local.keys() == ray.keys()
    for key in local:
        assert local[key] == ray[key], key
    return engine


def test_example_cli_report_is_the_same_as_the_local_engine(tmp_path: Path) -> None:
    runner = CliRunner()
    out = {}
    example = REPO / "skewcheck" / "example"
    uris = ["--images", (example / "images").as_uri(), "--labels", (example / "labels.csv").as_uri()]
    for run, extra in {
        "local": ["--engine", "local"],
        "ray": ["--engine", "ray"],
        "ray-uri": ["--engine", "ray", *uris],
    }.items():
        result = runner.invoke(app, ["compare", "--example", *extra, "--report", str(tmp_path / f"{run}.json")])
        assert result.exit_code == 1, result.output
        out[run] = result.output
    reports = {e: json.loads((tmp_path / f"{e}.json").read_text()) for e in out}
    engine = same_report(reports["local"], reports["ray"])
    assert engine["name"] == "ray" and engine["retried"] == [] and engine["lost"] == []
    assert out["local"] == out["ray"] == out["ray-uri"]  # the terminal report too, findings table and all
    same_report(reports["local"], reports["ray-uri"])  # the images read by the actors through pyarrow
    r = reports["ray"]
    assert (r["verdict"], r["exit_code"], r["summary"]["images"]) == ("fail", 1, 60)
    assert [(f["kind"], f["severity"], f["images"], f["flips"]) for f in r["findings"]] == [
        ("scale", "critical", 60, 17),
        ("dtype", "major", 60, 0),
    ]
    assert r["summary"]["accuracy"] == {"train": 0.95, "serve": pytest.approx(43 / 60)}


def test_probe_set_report_is_the_same_as_the_local_engine() -> None:
    args = {"model": EXAMPLE_MODEL, "train": EXAMPLE_TRAIN, "serve": EXAMPLE_SERVE}  # no images: the probe set
    local = skewcheck.compare(**args).to_dict()
    ray = skewcheck.compare(**args, engine="ray").to_dict()
    same_report(local, ray)
    assert ray["summary"]["images"] == 150 and ray["exit_code"] == 1
    assert ray["summary"]["decode_errors"] == {"train": 31, "serve": 23}
    kinds = [f["kind"] for f in ray["findings"]]
    assert {"scale", "dtype", "decode-tolerance", "shape"} <= set(kinds)


def test_a_segfault_is_recorded_against_its_image_as_with_workers(image_dir: Path) -> None:
    args = {"train": REF + "pil_unit", "serve": REF + "segfault_on_b", "images": image_dir, "batch_size": 4}
    workers = skewcheck.compare(**args, workers=1).to_dict()
    ray = skewcheck.compare(**args, engine="ray").to_dict()
    assert same_report(workers, ray)["lost"] == []
    crashed = sorted(r["path"] for r in ray["images"] if r["serve"].get("error_type") == "WorkerCrashed")
    assert crashed == ["b/img3.png", "b/img4.png", "b/img5.png", "b/notes.jpg"]


def test_a_uri_is_read_in_the_actors_path_pipelines_included(image_dir: Path) -> None:
    args = {"train": REF + "raises_on_b", "serve": REF + "pil_raw", "batch_size": 4}  # raises_on_b takes a path
    local = skewcheck.compare(**args, images=image_dir).to_dict()
    ray = skewcheck.compare(**args, images=image_dir.as_uri(), engine="ray").to_dict()
    assert same_report(local, ray)["lost"] == []
    assert ray["summary"]["pipeline_errors"] == {"train": 4, "serve": 0}  # b/ seen in the copy's path too


def test_a_hanging_pipeline_is_stopped_by_timeout(image_dir: Path) -> None:
    report = skewcheck.compare(
        train=REF + "hangs_on_img4", serve=REF + "pil_unit", images=image_dir, engine="ray", timeout=3
    )
    by_path = {r["path"]: r for r in report.images}
    assert by_path["b/img4.png"]["train"]["error_type"] == "PipelineTimeout"
    assert by_path["b/img3.png"]["train"]["status"] == "ok"
    assert report.summary["images"] == 7


def test_an_actor_lost_once_is_retried_by_ray_and_its_images_named(image_dir: Path) -> None:
    args = {
        "train": HOSTILE + "kills_its_actor_once_on_img4",
        "serve": REF + "pil_raw",
        "images": image_dir,
        "batch_size": 2,
    }
    local = skewcheck.compare(**args).to_dict()  # not under Ray: the pipeline kills nothing
    assert not (image_dir.parent / "actor-killed-once").exists()
    ray = skewcheck.compare(**args, engine="ray").to_dict()
    assert (image_dir.parent / "actor-killed-once").exists()  # the actor was killed, once
    engine = same_report(local, ray)
    assert engine["retried"] == ["b/img4.png", "b/img5.png"] and engine["lost"] == []  # img4's chunk of 2
    assert ray["summary"]["images"] == 7 and ray["exit_code"] == 1
    assert [f["kind"] for f in ray["findings"]] == [f["kind"] for f in local["findings"]] != []


def test_an_actor_lost_every_time_loses_its_images_loudly(image_dir: Path) -> None:
    report = skewcheck.compare(
        train=HOSTILE + "kills_its_actor_on_img4", serve=REF + "pil_raw", images=image_dir, batch_size=1, engine="ray"
    )
    engine = report.summary["engine"]
    assert engine["lost"] == ["b/img4.png"]
    assert engine["retried"] == []  # retried, then given up on: lost, not retried
    by_path = {r["path"]: r for r in report.images}
    assert len(by_path) == 7  # every image is in the report, the lost one too
    assert {by_path["b/img4.png"][side]["error_type"] for side in ("train", "serve")} == {"RayTaskLost"}
    assert by_path["b/img3.png"]["train"]["status"] == "ok"
    assert report.summary["pipeline_errors"] == {"train": 1, "serve": 1}
    assert "1 image(s) lost (Ray gave up; recorded as RayTaskLost): b/img4.png" in render_markdown(report.to_dict())


def test_without_the_extra_engine_ray_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as when not installed
    monkeypatch.setitem(sys.modules, "ray.data", None)
    result = CliRunner().invoke(app, ["compare", "--example", "--engine", "ray"])
    assert result.exit_code == 2
    assert result.output.strip() == "skewcheck: error: --engine ray needs Ray Data: pip install 'skewcheck[ray]'"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "spark"], "--engine must be local or ray"),
        (["--ray-address", "auto"], "--ray-address needs --engine ray"),
        (["--engine", "ray", "--workers", "2"], "--workers is for the local engine"),
        (
            ["--engine", "ray", "--ray-address", "127.0.0.1:1"],
            "--ray-address 127.0.0.1:1: no Ray cluster answers there",
        ),
        (["--engine", "ray", "--images", "file:///no/such/prefix"], "images folder not found: file:///no/such/prefix"),
    ],
)
def test_engine_usage_errors_are_one_line_exit_2(extra: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["compare", "--example", *extra])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and message in result.output and "Traceback" not in result.output


def test_a_python_callable_with_engine_ray_is_a_usage_error(image_dir: Path) -> None:
    with pytest.raises(UsageError, match="reference string"):
        skewcheck.compare(train=lambda data: data, serve=REF + "pil_raw", images=image_dir, engine="ray")


def test_help_and_probe_images_do_not_import_ray(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from skewcheck.cli import app\n"
        "for args in (['--help'], ['compare', '--help'], ['probe-images', sys.argv[1]]):\n"
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'pyarrow', 'tensorflow')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "probes")], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_an_endpoint_serve_side_stays_on_the_local_engine(tmp_path):
    result = CliRunner().invoke(
        app, ["compare", "--example", "--engine", "ray", "--serve", "http://127.0.0.1:1/v1/models/example:predict"]
    )
    assert result.exit_code == 2
    assert "audit an endpoint --serve with --engine local" in result.output
