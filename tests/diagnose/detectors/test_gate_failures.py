"""A side that fails where the other succeeds is skew: the gate must not let it pass."""

from __future__ import annotations

import numpy as np
from PIL import Image

import skewcheck
from skewcheck.diagnose.measure.rerender import MAX_CANVAS, pad_to_aspect
from skewcheck.findings import Severity

REF = "tests/pipelines_for_tests.py:"


def test_a_serving_side_that_fails_on_every_image_fails_the_gate(image_dir, run_from_repo):
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "always_raises", images=image_dir)
    top = report.findings[0]
    assert (top.kind, top.side, top.severity) == ("pipeline-error", "serve", Severity.CRITICAL)
    assert top.images == 7 and report.exit_code == 1  # every file, the text file named .jpg included


def test_a_model_that_fails_on_one_side_only_counts_in_the_gate(image_dir, run_from_repo):
    report = skewcheck.compare(
        model="tests/models_for_tests.py:rejects_raw_pixels",
        train=REF + "pil_unit",
        serve=REF + "pil_raw",
        images=image_dir,
    )
    model_errors = [f for f in report.findings if f.kind == "pipeline-error" and f.evidence.get("stage") == "model"]
    assert len(model_errors) == 1 and model_errors[0].side == "serve"
    assert model_errors[0].images == 6 and model_errors[0].severity == Severity.CRITICAL
    assert report.summary["model_errors"]["serve"] == 6 and report.exit_code == 1


def test_letterbox_rendering_is_bounded_whatever_the_files_shape():
    for shape in ((1, 65500, 3), (65500, 1, 3)):
        canvas = pad_to_aspect(np.zeros(shape, np.uint8), (64, 64))
        assert canvas.shape[0] * canvas.shape[1] <= MAX_CANVAS
    small = np.arange(40 * 60 * 3, dtype=np.uint8).reshape(40, 60, 3)
    assert pad_to_aspect(small, (64, 64)).shape == (60, 60, 3)  # ordinary files: unchanged


def test_an_extreme_aspect_image_is_audited(tmp_path, run_from_repo):
    root = tmp_path / "imgs"
    root.mkdir()
    Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), 256)[None, :, None].repeat(3, -1)).save(root / "strip.png")
    Image.fromarray(np.full((40, 30, 3), 120, np.uint8)).save(root / "plain.png")
    report = skewcheck.compare(
        train="tests/skew_pairs.py:reference", serve="tests/skew_pairs.py:serve_center_crop", images=root
    )
    assert {i["path"] for i in report.images} == {"strip.png", "plain.png"}
    assert report.audit_error is None
