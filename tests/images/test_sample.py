"""--sample: a seeded, stratified sample of the folder, with 95 % Wilson intervals on its rates."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.comparison.intervals import wilson
from skewcheck.errors import UsageError
from skewcheck.example import example_arguments
from skewcheck.images.sample import SampledFiles, parse_sample
from tests.conftest import EXAMPLE


@pytest.fixture(scope="module")
def sampled_example():
    return skewcheck.compare(**example_arguments(), sample=20).to_dict()


def test_a_sample_takes_every_label_in_proportion(sampled_example):
    summary = sampled_example["summary"]
    assert summary["images"] == 20
    assert summary["sample"]["of"] == EXAMPLE.images
    assert summary["sample"]["stratified_by"] == ["label"]
    labels = Counter(i["label"] for i in sampled_example["images"])
    assert sorted(labels.values()) == [2] * 10  # 6 images of each of 10 digits: 2 of each drawn


def test_the_intervals_bracket_the_whole_folders_rates(example_report, sampled_example):
    full, ci = example_report.summary, sampled_example["summary"]["sample"]["ci95"]
    low, high = ci["flip_rate"]
    assert low <= full["flip_rate"] <= high and high - low < 0.5
    low, high = ci["accuracy"]["serve"]
    assert low <= EXAMPLE.correct_serve / EXAMPLE.images <= high
    scale = next(f for f in ci["findings"] if f["kind"] == "scale")
    assert scale["images"] == 20 and scale["share"][1] == 1.0 and scale["share"][0] == pytest.approx(0.8389, abs=1e-4)


def test_the_same_seed_draws_the_same_images_another_seed_others():
    args = {**example_arguments(), "model": "none"}
    paths = [
        [i["path"] for i in skewcheck.compare(**args, sample=10, seed=seed).to_dict()["images"]] for seed in (3, 3, 4)
    ]
    assert paths[0] == paths[1] and paths[0] != paths[2]
    assert paths[0] == sorted(paths[0])  # the folder's order is kept


def test_wilson_interval_values():
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = wilson(0, 100)
    assert low == 0.0 and high == pytest.approx(0.0370, abs=1e-4)  # never zero-width at 0 successes
    assert wilson(0, 0) is None


def test_stratified_allocation_keeps_rare_strata(tmp_path: Path):
    for i in range(100):
        (tmp_path / f"{i:03d}.png").write_bytes(b"x")
    files = sorted(tmp_path.iterdir())
    rare = {"007.png", "042.png"}  # a probe kind on 2 of 100 images

    def stratum(name: str):
        return ("truncated", None) if name in rare else (None, None)

    sample = SampledFiles(files, tmp_path, 10, 0, stratum)
    chosen = [p.name for p in sample]
    assert len(chosen) == len(sample) == 10
    assert rare & set(chosen)  # the rare stratum is represented
    assert sample.strata == {"all images": 9, "probe truncated": 1}
    assert [p.name for p in SampledFiles(files, tmp_path, 0.05, 0, stratum)] != []
    assert len(list(SampledFiles(files, tmp_path, 1000, 0, stratum))) == 100  # larger than the folder: all of it


@pytest.mark.parametrize(("value", "parsed"), [("1000", 1000), (250, 250), ("0.01", 0.01), ("5%", 0.05)])
def test_sample_values(value, parsed):
    assert parse_sample(value) == parsed


@pytest.mark.parametrize("bad", ["0", "-3", "1.5", "abc", "150%"])
def test_bad_sample_is_a_usage_error(bad):
    with pytest.raises(UsageError, match="--sample"):
        parse_sample(bad)
    result = CliRunner().invoke(app, ["compare", "--example", "--sample", bad])
    assert result.exit_code == 2
    assert "--sample" in result.output and "Traceback" not in result.output


def test_the_cli_prints_and_writes_the_sample(tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app, ["compare", "--example", "--model", "none", "--sample", "25%", "--report", str(out)], terminal_width=400
    )
    assert result.exit_code == 1, result.output
    assert "sample: 15 of 60 images (seed 0, stratified by label); 95% intervals:" in result.output
    assert json.loads(out.read_text())["summary"]["sample"]["images"] == 15
