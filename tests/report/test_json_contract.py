"""The JSON report is a public contract (DESIGN.md, schema skewcheck.report/v1): check its shape."""

from __future__ import annotations

import pytest

from tests.conftest import EXAMPLE

SEVERITIES = {"critical", "major", "minor", "info"}
STATUSES = {"ok", "decode-error", "pipeline-error", "missing"}


@pytest.fixture(scope="module")
def report(example_cli):
    assert example_cli["result"].exit_code == 1, example_cli["result"].output
    return example_cli["json"]


def test_top_level(report):
    assert report["schema"] == "skewcheck.report/v1"
    assert report["verdict"] == "fail" and report["exit_code"] == 1 and report["gate"] == "major"
    assert report["model"]["format"] == "keras"
    assert report["model"]["input"] == {"shape": [None, 32, 32, 3], "dtype": "float32"}
    for side in ("train", "serve"):
        assert set(report["pipelines"][side]) >= {"ref", "description"}


def test_summary(report):
    s = report["summary"]
    assert s["images"] == EXAMPLE.images
    for key in ("decode_errors", "pipeline_errors", "model_errors"):
        assert s[key] == {"train": 0, "serve": 0}
    agreement = EXAMPLE.correct_serve / EXAMPLE.images  # every image that agrees is also right here
    assert s["top1_agreement"] == pytest.approx(agreement, abs=1e-6)
    assert s["accuracy"] == {
        "train": pytest.approx(EXAMPLE.correct_train / EXAMPLE.images),
        "serve": pytest.approx(EXAMPLE.correct_serve / EXAMPLE.images, abs=1e-6),
    }
    [out] = s["outputs"]  # one entry per model output, by kind (docs/models.md)
    assert (out["output"], out["kind"], out["metric"], out["images"]) == (0, "classification", "top1_agreement", 60)
    assert out["value"] == pytest.approx(agreement, abs=1e-6) and "answer_changed" not in s


def test_findings(report):
    findings = report["findings"]
    assert [f["kind"] for f in findings] == ["scale", "dtype"]
    for f in findings:
        assert set(f) >= {"kind", "severity", "side", "images", "flips", "evidence", "explanation", "fix", "examples"}
        assert f["severity"] in SEVERITIES and f["side"] in {"train", "serve", "both", None}
        assert isinstance(f["evidence"], dict) and 1 <= len(f["examples"]) <= 5
    assert findings[0]["evidence"]["k"] == 255.0 and findings[0]["flips"] == 17


def test_images(report):
    images = report["images"]
    assert len(images) == EXAMPLE.images
    for image in images:
        assert set(image) >= {"path", "train", "serve", "metrics", "findings"}
        for side in ("train", "serve"):
            assert image[side]["status"] in STATUSES
        assert image["train"]["dtype"] == "float32" and image["serve"]["dtype"] == "uint8"
        assert image["train"]["shape"] == image["serve"]["shape"] == [32, 32, 3]
        assert set(image["findings"]) == {"scale", "dtype"}
        m = image["metrics"]
        assert set(m["tensor"]) >= {"max_abs_diff", "mean_abs_diff", "rmse", "psnr", "cosine"}
        assert set(m["prediction"]) >= {"top1", "top5_overlap", "max_abs_dp", "js_divergence"}
