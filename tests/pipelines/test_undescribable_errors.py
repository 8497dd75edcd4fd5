"""Issue 24 item 8: an exception whose ``__str__`` raises, or a ``sys.exit`` code whose
``__repr__`` raises, is that image's error, in-process and in a worker (no traceback on stderr)."""

from __future__ import annotations

import pytest

import skewcheck
from tests import hostile_pipelines as hp
from tests.conftest import hostile_audit


def test_an_exception_whose_str_raises_is_that_images_error_in_process(two_images):
    report = skewcheck.compare(train=hp.pil, serve=hp.raises_unprintable, images=two_images, fail_on="never")
    assert report.exit_code == 0
    assert {(r["serve"]["status"], r["serve"]["error_type"]) for r in report.images} == {
        ("pipeline-error", "_Unprintable")
    }
    assert report.images[0]["serve"]["error"] == "<_Unprintable whose __str__ raised>"


def test_a_sys_exit_code_whose_repr_raises_is_that_images_error_in_process(two_images):
    report = skewcheck.compare(train=hp.pil, serve=hp.exits_with_unrepresentable_code, images=two_images)
    assert report.summary["pipeline_errors"] == {"train": 0, "serve": 2}
    error = report.images[0]["serve"]["error"]
    assert error.startswith("the pipeline called sys.exit(<_Unrepresentable whose __repr__ raised>);")


@pytest.mark.parametrize("serve", ["raises_unprintable", "exits_with_unrepresentable_code"])
def test_an_undescribable_error_in_a_worker_leaves_no_traceback(two_images, serve):
    done, report = hostile_audit(serve, two_images, workers=2)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert report["summary"]["pipeline_errors"] == {"train": 0, "serve": 2}
    expected = "_Unprintable" if serve == "raises_unprintable" else "SystemExit"
    assert {r["serve"]["error_type"] for r in report["images"]} == {expected}
