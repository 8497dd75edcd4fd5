"""`skewcheck compare` with several reports, --format, --max-flip-rate and --atol, through CliRunner."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from skewcheck.cli import app

REF = "tests/pipelines_for_tests.py:"
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


def invoke(*args: str):
    return runner.invoke(app, ["compare", "--quiet", *args])


def test_several_reports_in_one_run(tmp_path):
    paths = [tmp_path / "out" / name for name in ("r.json", "r.md", "r.xml", "r.html", "summary.txt")]
    args = [a for p in paths for a in ("--report", str(p))]
    result = invoke("--example", *args, "--format", "markdown")
    assert result.exit_code == 1, result.output
    data = json.loads(paths[0].read_text())
    assert data["exit_code"] == 1 and data["verdict"] == "fail"
    assert paths[1].read_text().startswith("## ❌ skewcheck: FAIL")
    assert paths[4].read_text() == paths[1].read_text()  # no known extension: --format decides
    root = ET.parse(paths[2]).getroot()
    assert int(root.get("tests")) == data["summary"]["images"] == 60
    assert paths[3].read_text().startswith("<!DOCTYPE html>")


def test_unknown_extension_without_format_is_a_usage_error(tmp_path):
    result = invoke("--example", "--report", str(tmp_path / "r.txt"))
    assert result.exit_code == 2
    assert "cannot tell the report format" in result.output


def test_max_flip_rate_changes_the_exit_code(tmp_path):
    out = tmp_path / "r.json"
    loose = invoke("--example", "--fail-on", "never", "--max-flip-rate", "0.3", "--report", str(out))
    assert loose.exit_code == 0, loose.output
    assert json.loads(out.read_text())["gate_details"]["failed"] == []
    strict = invoke("--example", "--fail-on", "never", "--max-flip-rate", "0.1", "--report", str(out))
    assert strict.exit_code == 1, strict.output
    gate = json.loads(out.read_text())["gate_details"]
    assert gate["failed"] == ["max-flip-rate"] and gate["max_flip_rate"] == 0.1
    assert gate["flip_rate"] == pytest.approx(17 / 60, abs=1e-6)


def test_atol_makes_a_small_offset_equal(image_dir, tmp_path):
    out = tmp_path / "r.json"
    strict = invoke("--train", REF + "pil_unit", "--serve", REF + "pil_unit_small_offset",
                    "--images", str(image_dir), "--report", str(out))  # fmt: skip
    assert strict.exit_code == 1, strict.output
    data = json.loads(out.read_text())
    assert data["findings"][0]["kind"] == "normalization"
    assert data["gate_details"]["to_pass"]["tensor_atol"] == pytest.approx(0.002, rel=1e-3)
    loose = invoke("--train", REF + "pil_unit", "--serve", REF + "pil_unit_small_offset",
                   "--images", str(image_dir), "--atol", "0.0021", "--report", str(out))  # fmt: skip
    assert loose.exit_code == 0, loose.output
    data = json.loads(out.read_text())
    assert data["findings"] == []
    assert all(i["metrics"]["tensor"]["within_tolerance"] for i in data["images"] if "tensor" in i["metrics"])
