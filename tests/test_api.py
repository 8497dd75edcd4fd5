"""The Python API end to end with real models: adaptation, several outputs, labels, the example."""

from __future__ import annotations

import json

import pytest

import skewcheck
from skewcheck.errors import UsageError
from tests.conftest import EXAMPLE, REPO, photo_like, write_png

REF = "tests/pipelines_for_tests.py:"
MODELS = REPO / "fixtures" / "models"


pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


@pytest.fixture
def small_images(tmp_path):
    """Eight 16×16 images (the fixture models' input) with labels by class name."""
    root = tmp_path / "imgs"
    rows = ["file,label"]
    for i in range(8):
        write_png(root / f"{i}.png", photo_like(10 + i, 16))
        rows.append(f"{i}.png,{'cat' if i % 2 else 'dog'}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "names.txt").write_text("dog\ncat\nbird\nfish\nfrog\n")
    return root


def test_identical_pipelines_with_keras_model_pass(small_images):
    report = skewcheck.compare(
        model=str(MODELS / "tiny.keras"), train=REF + "pil_unit", serve=REF + "pil_unit_again", images=small_images
    )
    assert report.passed and report.exit_code == 0
    assert report.summary["top1_agreement"] == 1.0 and report.summary["max_abs_dp"] == 0.0
    assert report.model["input"] == {"shape": [None, 16, 16, 3], "dtype": "float32"}


def test_float64_tensors_are_a_dtype_finding_and_still_predicted(small_images):
    report = skewcheck.compare(
        model=str(MODELS / "tiny.keras"), train=REF + "pil_unit", serve=REF + "pil_unit_float64", images=small_images
    )
    assert report.exit_code == 1
    assert [f.kind for f in report.findings] == ["dtype"]
    assert report.findings[0].evidence == {"train": "float32", "serve": "float64", "model": "float32"}
    image = report.images[0]
    assert image["serve"]["model"]["status"] == "ok"
    assert any("float64" in note for note in image["serve"]["model"]["adapted"])
    # once cast, the values are the same: predictions agree to float32 precision
    assert report.summary["top1_agreement"] == 1.0 and report.summary["max_abs_dp"] < 1e-6


def test_chw_tensors_are_a_layout_finding_and_adapted(small_images):
    report = skewcheck.compare(
        model=str(MODELS / "tiny.keras"), train=REF + "pil_unit", serve=REF + "pil_unit_chw", images=small_images
    )
    kinds = [f.kind for f in report.findings]
    assert kinds[0] == "layout"
    assert report.summary["predicted"] == 8 and report.summary["top1_agreement"] == 1.0


def test_two_output_model_compares_every_output(small_images):
    report = skewcheck.compare(
        model=str(MODELS / "two_outputs.keras"),
        train=REF + "pil_unit",
        serve=REF + "opencv_bgr_unit",
        images=small_images,
    )
    assert report.findings[0].kind == "channel-order"
    outputs = report.images[0]["metrics"]["outputs"]
    assert [o["output"] for o in outputs] == [1]  # the box head; output 0 is the class scores
    assert outputs[0]["within_tolerance"] is False and outputs[0]["max_abs_diff"] > 1e-4


def test_labels_by_class_name_give_accuracy_per_class(small_images, tmp_path):
    report = skewcheck.compare(
        model=str(MODELS / "tiny.keras"),
        train=REF + "pil_unit",
        serve=REF + "pil_raw",
        images=small_images,
        labels=tmp_path / "labels.csv",
        class_names=tmp_path / "names.txt",
    )
    acc = report.summary["accuracy"]
    assert set(acc) == {"train", "serve"}
    per_class = {row["name"]: row for row in report.summary["accuracy_per_class"]}
    assert set(per_class) == {"dog", "cat"} and per_class["dog"]["images"] == 4
    assert report.findings[0].kind == "scale"
    json.loads(report.to_json())  # serialisable, no NaN/Infinity


def test_unknown_class_name_is_a_usage_error(small_images, tmp_path):
    (tmp_path / "bad.csv").write_text("file,label\n0.png,zebra\n")
    with pytest.raises(UsageError, match="zebra"):
        skewcheck.compare(
            model="none",
            train=REF + "pil_unit",
            serve=REF + "pil_unit",
            images=small_images,
            labels=tmp_path / "bad.csv",
            class_names=tmp_path / "names.txt",
        )


def test_tensor_only_audit_and_python_callables(small_images):
    from tests import pipelines_for_tests as p

    report = skewcheck.compare(train=p.pil_unit, serve=p.pil_tf_mode, images=small_images)
    assert report.model["format"] == "none"
    top = report.findings[0]
    assert top.kind == "normalization" and top.evidence == {"train_preset": "unit", "serve_preset": "keras.tf"}


def test_example_story_pinned(example_report):
    """The bundled example: trained on /255, served raw uint8 (seed incident), figures pinned."""
    report = example_report
    assert report.exit_code == 1
    assert report.summary["images"] == EXAMPLE.images
    assert report.summary["accuracy"]["train"] == pytest.approx(EXAMPLE.correct_train / EXAMPLE.images)
    assert report.summary["accuracy"]["serve"] == pytest.approx(EXAMPLE.correct_serve / EXAMPLE.images)
    top = report.findings[0]
    assert (top.kind, top.severity.label, top.side) == ("scale", "critical", "serve")
    assert top.evidence == {"k": 255.0, "k_named": "255"}
    assert (top.images, top.flips) == (EXAMPLE.images, EXAMPLE.flips)
    assert "Divide the serve tensor by 255" in top.fix
