"""Reports survive odd data (NaN tensors) and odd file names, and are written atomically."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.report import write_report

REF = "tests/pipelines_for_tests.py:"
MODEL = "fixtures/models/tiny_callable.py:predict"
runner = CliRunner()

pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


@pytest.mark.parametrize("model", ["none", MODEL])
def test_nan_tensors_render_in_every_format(image_dir, tmp_path, model):
    report = skewcheck.compare(model=model, train=REF + "pil_unit", serve=REF + "all_nan", images=image_dir)
    for name in ("r.json", "r.md", "r.xml", "r.html"):
        write_report(report, tmp_path / name)
    root = ET.parse(tmp_path / "r.xml").getroot()
    assert int(root.get("failures")) == 6  # every decodable image: NaN is a critical pipeline-error
    assert "max |diff| n/a" in (tmp_path / "r.xml").read_text()
    html = (tmp_path / "r.html").read_text()
    assert html.rstrip().endswith("</html>") and "max |Δ| n/a" in html
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["summary"]["min_atol_to_pass"] is None  # no --atol makes NaN equal


def test_nan_tensors_through_the_cli(image_dir, tmp_path):
    out = [tmp_path / "r.xml", tmp_path / "r.html"]
    result = runner.invoke(app, ["compare", "--quiet", "--train", REF + "pil_unit", "--serve", REF + "all_nan",
                                 "--images", str(image_dir), *(a for p in out for a in ("--report", str(p)))])  # fmt: skip
    assert result.exit_code == 1, result.output
    assert all(p.exists() for p in out)
