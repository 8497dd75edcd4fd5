"""Issue 24 item 3: a pipeline's result that resists being sent from its worker process.

A result is pickled in the worker before it is sent: what cannot be is that image's
``PicklingError``; an ndarray subclass arrives as a plain ndarray; an image whose result kills its
worker between pipeline runs is given up after a few workers.

The CLI runs in a subprocess with a time limit: before these fixes the pool respawned workers
forever on some of these.
"""

from __future__ import annotations

import pytest

from tests.conftest import hostile_audit


def _serve_runs(report: dict) -> dict[str, tuple[str, str | None]]:
    return {r["path"]: (r["serve"]["status"], r["serve"].get("error_type")) for r in report["images"]}


@pytest.mark.parametrize("serve", ["returns_subclass", "returns_unpicklable_subclass"])
def test_an_ndarray_subclass_from_a_file_pipeline_arrives_as_its_values(two_images, serve):
    done, report = hostile_audit(serve, two_images, workers=2)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert _serve_runs(report) == {"0.png": ("ok", None), "1.png": ("ok", None)}
    assert report["summary"]["compared"] == 2


@pytest.mark.parametrize(
    ("serve", "reason"),
    [
        ("returns_unpicklable_dtype", "TypeError: cannot pickle '_thread.lock' object"),
        ("returns_dtype_tagged_with_own_class", "_Tag is defined in the pipeline's file"),
    ],
)
def test_a_result_that_cannot_be_sent_is_that_images_pickling_error(two_images, serve, reason):
    done, report = hostile_audit(serve, two_images, workers=2)
    assert done.returncode == 0, done.stderr  # --fail-on never: the errors are findings, not a crash
    assert "Traceback" not in done.stderr
    assert _serve_runs(report) == {"0.png": ("pipeline-error", "PicklingError")} | {
        "1.png": ("pipeline-error", "PicklingError")
    }
    assert all(reason in r["serve"]["error"] for r in report["images"])
    assert [r["train"]["status"] for r in report["images"]] == ["ok", "ok"]


def test_an_image_that_kills_its_workers_between_runs_is_given_up(two_images):
    done, report = hostile_audit("exits_when_its_result_is_pickled_on_0", two_images, workers=2)
    assert done.returncode == 0, done.stderr
    serve = {r["path"]: r["serve"] for r in report["images"]}
    assert serve["0.png"]["error_type"] == "WorkerCrashed"
    assert serve["0.png"]["error"].startswith("3 worker processes died on this image between its pipeline runs")
    assert "exit code 5" in serve["0.png"]["error"]
    assert serve["1.png"]["status"] == "ok"
