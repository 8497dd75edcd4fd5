"""skewcheck.testing.assert_no_skew: the audit inside a user's own pytest suite."""

from __future__ import annotations

import pytest

from skewcheck.example import example_arguments
from skewcheck.testing import assert_no_skew
from tests.conftest import EXAMPLE

REF = "tests/pipelines_for_tests.py:"


pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


def test_raises_on_the_examples_buggy_pipeline_with_ranked_findings():
    with pytest.raises(AssertionError) as caught:
        assert_no_skew(**example_arguments())
    lines = str(caught.value).splitlines()
    n, flips = EXAMPLE.images, EXAMPLE.flips
    assert lines[0] == (
        "skewcheck found training-serving skew: 2 finding(s) at or above --fail-on major; "
        "28.3 % of predictions flip (17 of 60, 95 % CI 18.5-40.8 %); "
        "accuracy drops 23.3 points on 60 labelled images (95 % CI 11.7-35.0); "
        f"60 of 60 serve tensors grossly differ from train's ({n} images)"
    )
    assert lines[1].startswith(
        f"  1. [critical] scale (side: serve; {n} images, {flips} flips): serve tensors are 255 × train"
    )
    assert lines[1].endswith("Fix: Divide the serve tensor by 255 (as training does), after casting to float.")
    assert lines[2].startswith("  2. [major] dtype (side: serve; 60 images, 0 flips): ")
    assert "Fix: Cast the serve tensor to float32" in lines[2]
    assert lines[3].startswith("  minimum that would pass: --fail-on never")


def test_passes_on_the_fixed_pipeline_and_on_an_identical_pair():
    args = example_arguments()
    fixed = assert_no_skew(**{**args, "serve": "skewcheck.example.pipelines:serve_preprocess_fixed"})
    assert fixed.passed and fixed.summary["flips"] == 0
    same = assert_no_skew(**{**args, "serve": args["train"]})
    assert same.passed and same.findings == []


def test_keywords_are_those_of_compare(image_dir):
    # below the gate: passes; the same skew fails a stricter gate
    assert_no_skew(train=REF + "pil_unit", serve=REF + "pil_raw", images=image_dir, fail_on="never")
    with pytest.raises(AssertionError, match=r"\[critical\] scale \(side: unknown; 6 images, 0 flips\)"):
        assert_no_skew(train=REF + "pil_unit", serve=REF + "pil_raw", images=image_dir)


def test_flip_rate_gate_alone_fails_with_its_numbers():
    args = {**example_arguments(), "fail_on": "never", "max_flip_rate": 0.1}
    with pytest.raises(AssertionError, match=rf"flip rate {EXAMPLE.flip_rate:.4f} > --max-flip-rate 0\.1"):
        assert_no_skew(**args)


def test_images_default_to_the_builtin_probes():
    report = assert_no_skew(train=REF + "pil_unit", serve=REF + "pil_unit_again")
    assert report.summary["images"] > 50 and report.probe_matrix  # the probe set, with its kinds
    findings = report.to_dict(thumbnails=True)["findings"]
    assert findings and all(f["thumbnails"] for f in findings)  # merged findings keep their examples too
