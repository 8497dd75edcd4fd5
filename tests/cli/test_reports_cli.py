"""`skewcheck compare` with several reports, --format, --max-flip-rate and --atol, through CliRunner."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from tests.conftest import EXAMPLE

REF = "tests/pipelines_for_tests.py:"
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


def invoke(*args: str):
    return runner.invoke(app, ["compare", "--quiet", *args])


def test_several_reports_in_one_run(example_cli):
    """conftest's example_cli writes r.json, r.md, r.xml, r.html and summary.txt in one run, --format markdown."""
    result, paths = example_cli["result"], example_cli["paths"]
    assert result.exit_code == 1, result.output
    data = json.loads(paths["r.json"].read_text())
    assert data["exit_code"] == 1 and data["verdict"] == "fail"
    assert paths["r.md"].read_text().startswith("## ❌ skewcheck: FAIL")
    assert paths["summary.txt"].read_text() == paths["r.md"].read_text()  # no known extension: --format decides
    root = ET.parse(paths["r.xml"]).getroot()
    assert int(root.get("tests")) == data["summary"]["images"] == EXAMPLE.images
    assert paths["r.html"].read_text().startswith("<!DOCTYPE html>")


def test_unknown_extension_without_format_is_a_usage_error(tmp_path):
    result = invoke("--example", "--report", str(tmp_path / "r.txt"))
    assert result.exit_code == 2
    assert "cannot tell the report format" in result.output


def test_max_flip_rate_changes_the_exit_code(tmp_path, example_report):
    # the flag through the CLI, once: a rate below the example's fails the run on it alone
    out = tmp_path / "r.json"
    strict = invoke("--example", "--fail-on", "never", "--max-flip-rate", "0.1", "--report", str(out))
    assert strict.exit_code == 1, strict.output
    gate = json.loads(out.read_text())["gate_details"]
    assert gate["failed"] == ["max-flip-rate"] and gate["max_flip_rate"] == 0.1
    assert gate["flip_rate"] == pytest.approx(EXAMPLE.flip_rate, abs=1e-6)
    # the same audit under a looser limit passes: the gate is the report's, not the audit's
    loose = dataclasses.replace(example_report, gate="never", max_flip_rate=0.3)
    assert loose.exit_code == 0 and loose.gate_details()["failed"] == []


def test_atol_makes_a_small_offset_equal(image_dir, tmp_path):
    out = tmp_path / "r.json"
    strict = invoke(
        "--train",
        REF + "pil_unit",
        "--serve",
        REF + "pil_unit_small_offset",
        "--images",
        str(image_dir),
        "--report",
        str(out),
        "--fail-on",
        "minor",  # without a model a small offset is minor: no damage, but a difference
    )
    assert strict.exit_code == 1, strict.output
    data = json.loads(out.read_text())
    assert data["findings"][0]["kind"] == "normalization"
    assert data["gate_details"]["to_pass"]["tensor_atol"] == pytest.approx(0.002, rel=1e-3)
    loose = invoke(
        "--train",
        REF + "pil_unit",
        "--serve",
        REF + "pil_unit_small_offset",
        "--images",
        str(image_dir),
        "--fail-on",
        "minor",
        "--atol",
        "0.0021",
        "--report",
        str(out),
    )
    assert loose.exit_code == 0, loose.output
    data = json.loads(out.read_text())
    assert data["findings"] == []
    assert all(i["metrics"]["tensor"]["within_tolerance"] for i in data["images"] if "tensor" in i["metrics"])
