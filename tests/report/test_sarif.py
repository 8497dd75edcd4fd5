"""The SARIF 2.1.0 report: valid against the official schema (vendored in tests/schemas/sarif),
one result per finding, rules with the kind's documentation, levels from severities, and
locations a code-scanning UI can open: the callable's ``def`` line or the divergent TOML step."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from skewcheck.report import render_report
from skewcheck.report.sarif import render_sarif
from tests.conftest import REPO, photo_like, write_png

SCHEMA = json.loads((REPO / "tests" / "schemas" / "sarif" / "sarif-2.1.0-rtm.5.json").read_text())
SPECS = """# train divides by 255, serve forgot to
[pipelines.train]
steps = [
  { op = "decode", library = "pil" },
  { op = "cast", dtype = "float32" },
  { op = "scale", factor = 0.00392156862745098 },
]

[pipelines.serve]
steps = [
  { op = "decode", library = "pil" },
  { op = "cast", dtype = "float32" },
  { op = "scale", factor = 1.0 },  # the bug
]
"""


def _valid(log: dict) -> dict:
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    return log["runs"][0]


def _file_of(artifact: dict, root: Path) -> Path:
    if artifact.get("uriBaseId") == "%SRCROOT%":
        return root / artifact["uri"]
    return Path(urlparse(artifact["uri"]).path)


def test_the_example_is_valid_sarif_located_at_the_serving_sides_divergent_line(example_report) -> None:
    data = example_report.to_dict()
    run = _valid(json.loads(render_report(example_report, "sarif")))
    assert [r["ruleId"] for r in run["results"]] == [f["kind"] for f in data["findings"]] == ["scale", "dtype"]
    assert [r["level"] for r in run["results"]] == ["error", "error"]  # critical, major
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["scale", "dtype"]
    assert rules[0]["help"]["markdown"].startswith("Serve ≈ k · train")  # docs/findings.md's text for scale
    assert "**Fix.** apply the same scaling on both sides" in rules[0]["help"]["markdown"]
    for result in run["results"]:
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        file = _file_of(physical["artifactLocation"], Path.cwd())
        line = file.read_text().splitlines()[physical["region"]["startLine"] - 1]
        assert file == REPO / "skewcheck" / "example" / "pipelines.py"
        traced = data["findings"][run["results"].index(result)]["location"]  # the first divergent line (issue 31)
        assert traced is not None and physical["region"]["startLine"] == traced["serve"]["line"]
        assert line.strip() == traced["serve"]["code"].strip() == 'return np.asarray(image.convert("RGB"))'
        related = [_file_of(r["physicalLocation"]["artifactLocation"], Path.cwd()) for r in result["relatedLocations"]]
        assert [p.relative_to(REPO / "skewcheck" / "example" / "images").as_posix() for p in related] == data[
            "findings"
        ][run["results"].index(result)]["examples"]
        assert all(p.is_file() for p in related)
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]


@pytest.mark.parametrize(
    ("severity", "level"), [("critical", "error"), ("major", "error"), ("minor", "warning"), ("info", "note")]
)
def test_level_follows_severity_and_a_train_side_finding_points_at_train(example_report, severity, level) -> None:
    data = copy.deepcopy(example_report.to_dict())
    data["findings"] = data["findings"][:1]
    data["findings"][0].update(severity=severity, side="train")
    (result,) = _valid(json.loads(render_sarif(data, REPO)))["results"]
    assert result["level"] == level
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "skewcheck/example/pipelines.py", "uriBaseId": "%SRCROOT%"}
    line = (REPO / "skewcheck/example/pipelines.py").read_text().splitlines()[physical["region"]["startLine"] - 1]
    assert line.strip() == "return (tf.cast(image, tf.float32) / 255.0).numpy()"  # train's traced line
    data["findings"][0]["location"] = None  # not traced: the callable's definition
    (result,) = _valid(json.loads(render_sarif(data, REPO)))["results"]
    physical = result["locations"][0]["physicalLocation"]
    line = (REPO / "skewcheck/example/pipelines.py").read_text().splitlines()[physical["region"]["startLine"] - 1]
    assert line.startswith("def train_preprocess(")


@pytest.fixture
def declarative_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """``compare`` of two TOML pipelines on three images, run from their folder: SARIF (through
    --format) and JSON reports."""
    (tmp_path / "specs.toml").write_text(SPECS)
    for i in range(3):
        write_png(tmp_path / "imgs" / f"img{i}.png", photo_like(i))
    monkeypatch.chdir(tmp_path)
    args = ["compare", "--train", "specs.toml#train", "--serve", "specs.toml#serve", "--images", "imgs", "-q"]
    result = CliRunner().invoke(app, [*args, "--report", "out.txt", "--format", "sarif", "--report", "out.json"])
    assert result.exit_code == 1, result.output
    return {
        "root": tmp_path,
        "sarif": json.loads((tmp_path / "out.txt").read_text()),
        "json": json.loads((tmp_path / "out.json").read_text()),
    }


def test_declarative_pipelines_are_located_at_the_divergent_step(declarative_run: dict) -> None:
    run = _valid(declarative_run["sarif"])
    scale = next(r for r in run["results"] if r["ruleId"] == "scale")
    physical = scale["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "specs.toml", "uriBaseId": "%SRCROOT%"}
    assert SPECS.splitlines()[physical["region"]["startLine"] - 1].strip().endswith("# the bug")
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == declarative_run["root"].resolve().as_uri() + "/"
    related = {r["physicalLocation"]["artifactLocation"]["uri"] for r in scale["relatedLocations"]}
    assert related and related <= {f"imgs/img{i}.png" for i in range(3)}


def test_the_json_report_says_where_each_pipeline_is_defined(declarative_run: dict) -> None:
    file = str(declarative_run["root"].resolve() / "specs.toml")
    pipelines = declarative_run["json"]["pipelines"]
    assert pipelines["train"]["source"] == {"file": file, "line": 2, "steps": [4, 5, 6]}
    assert pipelines["serve"]["source"] == {"file": file, "line": 9, "steps": [11, 12, 13]}


def test_without_a_divergent_step_the_location_is_the_pipeline_table(declarative_run: dict) -> None:
    data = declarative_run["json"]
    del data["divergence"]
    run = _valid(json.loads(render_sarif(data, declarative_run["root"])))
    lines = {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]}
    assert lines == {9}  # [pipelines.serve]
