"""Geometry and padding (issue 17 items 2-3): keep-ratio + pad vs stretch, pad placement, pad
value and pad-before/after-normalization are one ``padding`` finding with the framing fitted per
side; a normalization on a padded tensor is one ``normalization`` finding and nothing else."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.diagnose.detectors.padding import BOTTOM_RIGHT, TOP_LEFT, framing_name
from skewcheck.diagnose.measure.fit import fit_values
from skewcheck.diagnose.measure.pad_box import pad_box
from skewcheck.probes import write_probes
from tests.padded_pipelines import write_wide_crops

P = "tests/padded_pipelines.py:"
pytestmark = pytest.mark.usefixtures("run_from_repo")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("padding")
    write_probes(root, kinds=["clean-jpeg-q95", "clean-png", "sentinel-channel-order"])
    write_wide_crops(root / "wide", count=4)
    return root


def test_stretch_against_right_pad_is_one_padding_finding_with_the_fitted_framing(images):
    report = skewcheck.compare(train=P + "ocr_reference", serve=P + "ocr_serve_stretch", images=images)
    assert [f.kind for f in report.findings] == ["padding"], [(f.kind, f.evidence) for f in report.findings]
    top = report.findings[0]
    assert top.evidence["train"] == BOTTOM_RIGHT and top.evidence["serve"] == "stretch"
    assert top.evidence["train_pad"] == 127.5  # a 0 written into [-1, 1]: mid-gray in pixel values
    assert top.evidence["train_pad_order"] == "after normalization"
    wide = 4  # crops 2:1 and wider fill the 96-px width: no padding, both sides identical there
    assert top.images == report.summary["compared"] - wide
    assert top.impact["diff_explained"] > 0.9, top.impact


def test_pad_before_normalization_against_after_is_the_pad_value(images):
    report = skewcheck.compare(train=P + "ocr_reference", serve=P + "ocr_serve_pad_before_norm", images=images)
    assert [f.kind for f in report.findings] == ["padding"], [(f.kind, f.evidence) for f in report.findings]
    ev = report.findings[0].evidence
    assert (ev["cause"], ev["train_pad"], ev["serve_pad"]) == ("pad value", 127.5, 0.0)
    assert (ev["train_pad_order"], ev["serve_pad_order"]) == ("after normalization", "before normalization")


def test_normalization_skew_on_the_padded_model_input_is_one_finding(images):
    report = skewcheck.compare(train=P + "ocr_reference", serve=P + "ocr_serve_unit", images=images)
    assert [f.kind for f in report.findings] == ["normalization"], [(f.kind, f.images) for f in report.findings]
    assert report.findings[0].images == report.summary["compared"]


def test_mirrored_stretch_on_train_names_the_same_framings(images):
    report = skewcheck.compare(train=P + "ocr_serve_stretch", serve=P + "ocr_reference", images=images)
    top = report.findings[0]
    assert (top.kind, top.evidence["train"], top.evidence["serve"]) == ("padding", "stretch", BOTTOM_RIGHT)


def test_cli_json_carries_the_padding_finding(images, tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--train",
            P + "ocr_reference",
            "--serve",
            P + "ocr_serve_centred",
            "--images",
            str(images),
            "--report",
            str(out),
        ],
    )
    assert result.exit_code == 1, result.output
    findings = json.loads(out.read_text())["findings"]
    assert [f["kind"] for f in findings] == ["padding"]
    assert findings[0]["evidence"]["serve"] == "keep-ratio, centred pad"


def test_pad_box_and_framing_names():
    x = np.zeros((10, 20, 3))
    x[:, 3:15] = np.random.default_rng(0).uniform(0.1, 1, (10, 12, 3))
    box, value = pad_box(x)
    assert box == (0, 10, 3, 15) and value.tolist() == [0.0, 0.0, 0.0]
    assert framing_name(box, (10, 20)) == "keep-ratio, pad left and right"
    assert framing_name((0, 10, 4, 16), (10, 20)) == "keep-ratio, centred pad"
    assert framing_name((0, 7, 0, 20), (10, 20)) == BOTTOM_RIGHT
    assert framing_name((3, 10, 0, 20), (10, 20)) == TOP_LEFT
    assert framing_name(None, (10, 20)) == "stretch"
    assert pad_box(np.random.default_rng(1).uniform(0.1, 1, (8, 8, 3))) is None


def test_value_fit_on_a_box_padded_with_other_values():
    rng = np.random.default_rng(2)
    t = np.full((12, 16, 3), -1.0)
    t[:, :10] = rng.uniform(-1, 1, (12, 10, 3))
    s = t.copy()
    s[:, 10:] = 0.0  # same content, the padding written as 0 instead of -1
    fit = fit_values(t, s)
    assert fit.box == (0, 12, 0, 10) and fit.model == "identical"
    assert np.array_equal(fit.apply(t), t)  # the padding is left as it is
