"""The gate fails on the damage observed, whatever the diagnosis names (issue 23).

Each skewed row is one bug of the issue's table, written in tests/gate_pipelines.py on the bundled
example (a 32×32 digit classifier, 60 labelled images), audited through the real CLI with the
default gate (--fail-on major). Each must exit 1 and say the damage in its headline; the quiet
rows (numerically equivalent ports) must exit 0 with no damage at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import skewcheck
from skewcheck.attribution.damage import GROSS_DB, DamageTally, assess, paired_drop, share_severity
from skewcheck.cli import app
from skewcheck.comparison.metrics import input_distance_db
from skewcheck.example import HERE as EXAMPLE
from skewcheck.findings import Severity
from skewcheck.report.common import headline

G = "tests/gate_pipelines.py:"
MODEL = str(EXAMPLE / "model.keras")
LABELS = str(EXAMPLE / "labels.csv")
IMAGES = EXAMPLE / "images"

pytestmark = pytest.mark.usefixtures("run_from_repo")


def _audit(tmp_path: Path, train: str, serve: str, images: Path = IMAGES, *extra: str) -> tuple[int, dict]:
    out = tmp_path / "report.json"
    args = ["compare", "--quiet", "--model", MODEL, "--train", G + train, "--serve", G + serve]
    args += ["--images", str(images), "--report", str(out), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(out.read_text())


def _headline(data: dict) -> str:
    """The sentence after FAIL/PASS in every format."""
    return headline(data)


@pytest.fixture(scope="module")
def exif_digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example digits as JPEGs; every sixth stored rotated with EXIF orientation 6."""
    root = tmp_path_factory.mktemp("exif")
    for i, png in enumerate(sorted(IMAGES.rglob("*.png"))):
        out = root / png.relative_to(IMAGES).with_suffix(".jpg")
        out.parent.mkdir(parents=True, exist_ok=True)
        rgb = Image.open(png).convert("RGB")
        if i % 6 == 0:
            exif = Image.Exif()
            exif[0x0112] = 6
            rgb.transpose(Image.Transpose.ROTATE_90).save(out, quality=95, exif=exif)
        else:
            rgb.save(out, quality=95)
    return root


@pytest.fixture(scope="module")
def tall_digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example digits on a 32×56 canvas of their own background: crops of another aspect."""
    root = tmp_path_factory.mktemp("tall")
    for png in sorted(IMAGES.rglob("*.png")):
        digit = np.asarray(Image.open(png).convert("RGB"))
        canvas = np.empty((56, 32, 3), np.uint8)
        canvas[:] = digit[0, 0]
        canvas[:32] = digit
        out = root / png.relative_to(IMAGES)
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(canvas).save(out)
    return root


def test_integer_division_by_255_fails_on_the_flips_it_causes(tmp_path):
    code, data = _audit(tmp_path, "train", "serve_integer_divide", IMAGES, "--labels", LABELS)
    assert code == 1 and data["summary"]["flips"] >= 50
    rules = {d["rule"]: d for d in data["gate_details"]["damage"]}
    assert rules["answers"]["severity"] == "critical" and rules["answers"]["ci95"][0] > 0.5
    assert rules["accuracy"]["severity"] == "critical"
    assert rules["gross-inputs"]["count"] == 60
    assert "of predictions flip" in _headline(data) and "accuracy drops" in _headline(data)


def test_noise_no_detector_names_is_graded_by_its_flips(tmp_path):
    code, data = _audit(tmp_path, "train", "serve_noise_on_some", IMAGES, "--labels", LABELS)
    assert code == 1
    residual = [f for f in data["findings"] if f["kind"] in ("prediction", "unexplained")]
    assert residual and all(f["severity"] in ("major", "critical") for f in residual)
    flips = data["summary"]["flips"]
    assert 3 <= flips <= 10 and f"({flips} of 60" in _headline(data)


def test_a_few_black_images_fail_even_where_few_predictions_flip(tmp_path):
    code, data = _audit(tmp_path, "train", "serve_black_on_some")
    gross = data["summary"]["input_distance"]["gross"]
    assert code == 1 and 1 <= gross <= 6
    assert f"{gross} of 60 serve tensors grossly differ from train's" in _headline(data)


def test_ignored_exif_orientation_fails_as_gross_inputs(tmp_path, exif_digits):
    code, data = _audit(tmp_path, "train", "serve_no_exif", exif_digits)
    assert code == 1
    top = data["findings"][0]
    assert (top["kind"], top["side"], top["gross_images"]) == ("orientation", "serve", 10)
    assert top["severity"] in ("major", "critical")
    assert "10 of 60 serve tensors grossly differ from train's" in _headline(data)


def test_stretching_where_training_pads_fails(tmp_path, tall_digits):
    code, data = _audit(tmp_path, "train_keep_aspect", "serve_stretch", tall_digits)
    assert code == 1
    assert data["summary"]["input_distance"]["gross"] >= 50
    assert "grossly differ" in _headline(data)


def test_missing_normalization_fails_even_where_the_model_keeps_its_answers(tmp_path):
    code, data = _audit(tmp_path, "train_normalized", "serve_not_normalized")
    assert code == 1
    assert data["summary"]["flips"] <= 5  # this model barely minds: the input distance decides
    assert "60 of 60 serve tensors grossly differ from train's" in _headline(data)
    assert data["findings"][0]["kind"] == "normalization" and data["findings"][0]["severity"] == "major"


@pytest.mark.parametrize("serve", ["quiet_numpy_division", "quiet_float32_rounding", "quiet_opencv_port"])
def test_numerically_equivalent_ports_stay_quiet(tmp_path, serve):
    code, data = _audit(tmp_path, "train", serve, IMAGES, "--labels", LABELS)
    assert code == 0, _headline(data)
    assert data["gate_details"]["damage"] == [] and data["summary"]["input_distance"]["gross"] == 0


def test_the_same_rule_decides_with_workers_and_under_sample(tmp_path):
    ref = {"model": MODEL, "train": G + "train", "serve": G + "serve_noise_on_some", "images": IMAGES}
    local = skewcheck.compare(**ref)
    pooled = skewcheck.compare(**ref, workers=1)
    sampled = skewcheck.compare(**ref, sample="30")
    assert local.exit_code == pooled.exit_code == 1
    assert [d.to_dict() for d in local.damage] == [d.to_dict() for d in pooled.damage]
    assert sampled.summary["input_distance"]["measured"] == 30
    assert sampled.summary["sample"]["ci95"]["flip_rate"] is not None


def test_one_borderline_flip_in_60_does_not_fail_but_15_in_200_do():
    assert share_severity(1, 60) is None  # 95 % interval 0.3-8.9 %
    assert share_severity(15, 200) == Severity.MAJOR  # 4.6-12.0 %
    assert share_severity(173, 200) == Severity.CRITICAL
    assert share_severity(0, 200) is None and share_severity(3, 0) is None
    drop, low, high = paired_drop(train_only=15, serve_only=0, n=200) or (0, 0, 0)
    assert drop == pytest.approx(0.075) and low == pytest.approx(0.0385, abs=1e-3) and high > drop
    tally = DamageTally(labelled_both=60, train_only=1)
    assert assess(tally, changed=1, judged=60, answer="predictions flip", findings=[], images=60) == []


def test_the_input_distance_separates_resampling_from_rotation():
    rng = np.random.default_rng(0)
    smooth = np.cumsum(np.cumsum(rng.normal(size=(64, 64, 3)), 0), 1)
    x = ((smooth - smooth.min()) / np.ptp(smooth)).astype(np.float32)
    jitter = x + rng.normal(0, 0.02, x.shape).astype(np.float32)  # pixel-level noise, like a resampler's
    assert input_distance_db(x, jitter) > 40
    assert input_distance_db(x, np.rot90(x).copy()) < GROSS_DB
    assert input_distance_db(x, np.zeros_like(x)) < GROSS_DB
    assert input_distance_db(x, x.transpose(2, 0, 1)) is None  # shapes differ: the shape finding's case
    chw = x.transpose(2, 0, 1)
    assert input_distance_db(chw, chw) == float("inf")
