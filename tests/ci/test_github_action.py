"""The GitHub Action's audit step, run as GitHub runs it: with GITHUB_STEP_SUMMARY and
GITHUB_OUTPUT set, on the bundled example (exit code 1: the gate fails the job)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from skewcheck.ci.github_action import FLAG_INPUTS, OTHER_INPUTS
from tests.conftest import EXAMPLE, REPO


def _outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT's ``name<<DELIMITER`` entries."""
    found = re.findall(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.MULTILINE | re.DOTALL)
    return {name: value for name, _, value in found}


def _step(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], Path, dict[str, str]]:
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.write_text("earlier step's summary\n")
    variables = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output), **env}
    done = subprocess.run(
        [sys.executable, "-m", "skewcheck.ci.github_action"],
        cwd=tmp_path,
        env={**_base_env(), **variables},
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done, summary, _outputs(output.read_text())


def _base_env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_the_step_on_the_example_fails_the_job_and_fills_summary_and_outputs(tmp_path: Path) -> None:
    done, summary, outputs = _step(tmp_path, SKEWCHECK_EXAMPLE="true", SKEWCHECK_SARIF="true")
    assert done.returncode == 1, done.stderr
    reports = tmp_path.resolve() / "skewcheck-reports"
    assert outputs == {
        "verdict": "fail",
        "exit-code": "1",
        "json-report": str(reports / "skewcheck.json"),
        "markdown-report": str(reports / "skewcheck.md"),
        "sarif-report": str(reports / "skewcheck.sarif"),
    }
    text = summary.read_text()
    assert text.startswith("earlier step's summary\n## ❌ skewcheck: FAIL")  # appended, never overwritten
    report = json.loads(Path(outputs["json-report"]).read_text())
    assert report["summary"]["flips"] == EXAMPLE.flips
    sarif = json.loads(Path(outputs["sarif-report"]).read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == [f["kind"] for f in report["findings"]]
    assert "$ skewcheck compare --example --report skewcheck-reports/skewcheck.json" in done.stdout


def test_a_usage_error_fails_the_step_with_its_line_in_the_summary(tmp_path: Path) -> None:
    done, summary, outputs = _step(tmp_path, SKEWCHECK_TRAIN="nope.py:f", SKEWCHECK_SERVE="nope.py:f")
    assert done.returncode == 2
    assert outputs["verdict"] == "usage-error" and outputs["json-report"] == ""
    assert "## skewcheck: no report (exit code 2)" in summary.read_text()
    assert "file not found: nope.py" in summary.read_text()


def test_fail_on_skew_false_reports_the_skew_without_failing(tmp_path: Path) -> None:
    done, _, outputs = _step(
        tmp_path, SKEWCHECK_EXAMPLE="true", SKEWCHECK_FAIL_ON_SKEW="false", SKEWCHECK_ARGS="--max-flip-rate 0.5"
    )
    assert done.returncode == 0 and outputs["exit-code"] == "1" and outputs["verdict"] == "fail"


def test_action_yml_maps_every_input_to_the_step() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = {s.get("id", s["name"]): s for s in action["runs"]["steps"]}
    audit = steps["audit"]
    assert "-m skewcheck.ci.github_action" in audit["run"]
    wired = {name: variable for name, (variable, _) in FLAG_INPUTS.items()} | OTHER_INPUTS
    for name, variable in wired.items():
        assert name in action["inputs"], name
        assert audit["env"][variable] == f"${{{{ inputs.{name} }}}}"
    assert set(action["outputs"]) == {"verdict", "exit-code", "json-report", "markdown-report", "sarif-report"}
