"""`skewcheck compare` through typer's CliRunner and a real process: exit codes and the JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from tests.conftest import REPO

REF = "tests/pipelines_for_tests.py:"
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


def invoke(*args: str):
    return runner.invoke(app, ["compare", "--quiet", *args])


def test_identical_pipelines_exit_0(image_dir, tmp_path):
    out = tmp_path / "r.json"
    result = invoke(
        "--train", REF + "pil_unit", "--serve", REF + "pil_unit_again", "--images", str(image_dir), "--report", str(out)
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["verdict"] == "pass" and report["exit_code"] == 0
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    # every input file is in the report, the garbage .jpg included, rejected by both sides
    assert sorted(i["path"] for i in report["images"]) == sorted(
        ["a/img0.png", "a/img1.png", "a/img2.png", "b/img3.png", "b/img4.png", "b/img5.png", "b/notes.jpg"]
    )
    junk = next(i for i in report["images"] if i["path"] == "b/notes.jpg")
    assert junk["train"]["status"] == junk["serve"]["status"] == "decode-error"
    assert report["summary"]["decode_errors"] == {"train": 1, "serve": 1}


def test_missing_division_exit_1_with_scale_first(image_dir, tmp_path):
    out = tmp_path / "r.json"
    result = invoke(
        "--train", REF + "pil_unit", "--serve", REF + "pil_raw", "--images", str(image_dir), "--report", str(out)
    )
    assert result.exit_code == 1
    report = json.loads(out.read_text())
    top = report["findings"][0]
    assert top["kind"] == "scale" and top["severity"] == "critical" and top["side"] == "unknown"
    assert top["evidence"]["k"] == pytest.approx(255.0) and top["images"] == 6
    assert {"kind", "severity", "side", "images", "flips", "evidence", "explanation", "fix", "examples"} <= set(top)


def test_gate_never_passes_the_same_skew(image_dir):
    result = invoke(
        "--train", REF + "pil_unit", "--serve", REF + "pil_raw", "--images", str(image_dir), "--fail-on", "never"
    )
    assert result.exit_code == 0


def test_pipeline_raising_on_some_images_is_recorded(image_dir, tmp_path):
    out = tmp_path / "r.json"
    result = invoke(
        "--train", REF + "pil_unit", "--serve", REF + "raises_on_b", "--images", str(image_dir), "--report", str(out)
    )
    assert result.exit_code == 1
    report = json.loads(out.read_text())
    assert len(report["images"]) == 7
    failed = [i["path"] for i in report["images"] if i["serve"]["status"] == "pipeline-error"]
    # serve raises before decoding anything under b/, the garbage file included
    assert failed == ["b/img3.png", "b/img4.png", "b/img5.png", "b/notes.jpg"]
    assert next(i for i in report["images"] if i["path"] == "b/img3.png")["serve"]["error_type"] == "RuntimeError"
    finding = next(f for f in report["findings"] if f["kind"] == "pipeline-error")
    assert finding["side"] == "serve" and finding["images"] == 4
    assert report["summary"]["pipeline_errors"] == {"train": 0, "serve": 4}
    assert report["summary"]["decode_errors"] == {"train": 1, "serve": 0}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--model", "missing.keras"], "model file not found"),
        (["--images", "no/such/dir"], "images folder not found"),
        (["--serve", "tests/pipelines_for_tests.py:nope"], "has no attribute"),
        (["--fail-on", "sometimes"], "--fail-on"),
    ],
)
def test_usage_errors_exit_2_in_one_line(image_dir, args, fragment):
    base = {"--train": REF + "pil_unit", "--serve": REF + "pil_unit", "--images": str(image_dir)}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    result = invoke(*[x for kv in base.items() for x in kv])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert fragment in result.output


def test_missing_model_in_a_real_process_has_no_traceback(image_dir):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "skewcheck",
            "compare",
            "--model",
            "nope.keras",
            "--train",
            REF + "pil_unit",
            "--serve",
            REF + "pil_unit",
            "--images",
            str(image_dir),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("skewcheck: error:")


def test_help_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from skewcheck.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'Exit codes' in r.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'cv2', 'keras')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
