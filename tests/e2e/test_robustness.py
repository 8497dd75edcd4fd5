"""Bad input never crashes the audit: odd pipeline results and detector failures are recorded."""

from __future__ import annotations

import pytest

import skewcheck
import skewcheck.diagnose as diagnose_module

REF = "tests/pipelines_for_tests.py:"


pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


def test_nan_values_are_a_critical_pipeline_error(image_dir):
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "nan_image", images=image_dir)
    top = report.findings[0].to_dict()
    assert (top["kind"], top["severity"], top["side"], top["images"]) == ("pipeline-error", "critical", "serve", 6)
    assert top["evidence"]["worst_non_finite_share"] == pytest.approx(4 / 24, abs=1e-4)  # rounded to 4 places
    report.to_json()  # NaN metrics serialise as null, not as invalid JSON


def test_non_numeric_result_is_a_pipeline_error(image_dir):
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "object_array", images=image_dir)
    image = next(i for i in report.images if i["path"] == "a/img0.png")
    assert image["serve"]["status"] == "pipeline-error" and "dtype object" in image["serve"]["error"]


def test_a_failing_detector_is_recorded_and_the_audit_completes(image_dir, monkeypatch):
    def broken(ctx):
        raise ZeroDivisionError("detector bug")

    monkeypatch.setattr(diagnose_module, "DETECTORS", (broken, *diagnose_module.DETECTORS))
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_raw", images=image_dir)
    assert report.findings[0].kind == "scale"  # the other detectors still ran
    compared = [i for i in report.images if i["train"]["status"] == "ok"]
    assert all(i["diagnosis_errors"] == ["test_robustness: ZeroDivisionError: detector bug"] for i in compared)
