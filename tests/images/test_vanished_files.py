"""Issue 24 item 10: a file counted at the start and removed before it is read stays in the report.

``compare``'s first progress call comes right after the folder is counted and before any image is
read: the tests remove files there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import skewcheck
from tests.conftest import photo_like, write_png

REF = "tests/hostile_pipelines.py:pil"

pytestmark = pytest.mark.usefixtures("run_from_repo")  # the references are repo-relative


@pytest.fixture
def images(tmp_path: Path) -> Path:
    root = tmp_path / "imgs"
    for i in range(4):
        write_png(root / f"{i}.png", photo_like(i, 16))
    return root


def _removing(root: Path, names: list[str]):
    def progress(done: int, total: int) -> None:
        if done == 0:
            assert total == 4  # counted before the removal
            for name in names:
                (root / name).unlink()

    return progress


@pytest.mark.parametrize("workers", [0, 2])
def test_a_file_removed_after_counting_is_an_image_whose_outcome_says_so(images, workers):
    report = skewcheck.compare(
        train=REF, serve=REF, images=images, workers=workers, progress=_removing(images, ["1.png", "3.png"])
    )
    assert report.summary["images"] == 4
    assert report.summary["compared"] == 2
    assert report.summary["pipeline_errors"] == {"train": 2, "serve": 2}
    runs = {r["path"]: (r["train"].get("error_type"), r["serve"].get("error_type")) for r in report.images}
    assert runs == {
        "0.png": (None, None),
        "1.png": ("FileNotFoundError", "FileNotFoundError"),
        "2.png": (None, None),
        "3.png": ("FileNotFoundError", "FileNotFoundError"),
    }
    assert "removed after the audit counted it" in report.images[1]["train"]["error"]


def test_every_file_removed_after_counting_means_the_audit_could_not_run(images):
    report = skewcheck.compare(
        train=REF, serve=REF, images=images, workers=0, progress=_removing(images, [f"{i}.png" for i in range(4)])
    )
    assert report.exit_code == 3
    assert report.summary["images"] == 4
    assert report.summary["pipeline_errors"] == {"train": 4, "serve": 4}


def test_a_file_replaced_by_a_fifo_after_counting_is_never_opened(images):
    import os

    def progress(done: int, total: int) -> None:
        if done == 0:
            (images / "2.png").unlink()
            os.mkfifo(images / "2.png")  # opening it would block the pipeline forever

    report = skewcheck.compare(train=REF, serve=REF, images=images, workers=0, progress=progress)
    replaced = next(r for r in report.images if r["path"] == "2.png")
    assert replaced["train"]["error_type"] == replaced["serve"]["error_type"] == "NotARegularFile"
    assert report.summary["compared"] == 3
