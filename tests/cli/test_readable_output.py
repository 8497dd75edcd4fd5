"""Output a person reads in a CI log: nothing cut, no TensorFlow noise, helpful usage errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from tests.conftest import photo_like, write_png

REF = "tests/pipelines_for_tests.py:"
MODEL = "fixtures/models/tiny_callable.py:predict"
SCALE_FIX = "Scale both sides alike: serve = 255 × train. If the model learnt train's range, divide serve by 255"
runner = CliRunner()

pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative

LONG = "a-rather-long-folder-name-as-datasets-have/" + "an-image-file-name-that-goes-on-and-on-0001.png"


@pytest.fixture
def long_names(tmp_path):
    write_png(tmp_path / "images" / LONG, photo_like(1))
    return tmp_path / "images"


def _compare(images, env):
    return runner.invoke(
        app, ["compare", "--train", REF + "pil_unit", "--serve", REF + "pil_raw", "--images", str(images)], env=env
    )


def test_a_ci_log_gets_the_whole_fix_and_whole_paths(long_names):
    result = _compare(long_names, {"COLUMNS": None})  # CliRunner's stdout is not a terminal, like a CI log
    assert result.exit_code == 1, result.output
    assert SCALE_FIX in result.stdout  # on one line, not cut at ~20 characters
    assert LONG in result.stdout


def test_columns_is_respected_and_nothing_is_cut(long_names):
    result = _compare(long_names, {"COLUMNS": "70"})
    assert result.exit_code == 1, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 70
    assert "…" not in result.stdout  # narrow cells fold onto more lines instead of losing their end


def test_an_unknown_label_names_the_class_names_file_and_the_nearest_names(image_dir, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("rocket\ncat\ndog\nrocker\nfive\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\na/img0.png,cat\na/img1.png,rockett\n")
    result = runner.invoke(
        app,
        [
            "compare",
            "--quiet",
            "--model",
            MODEL,
            "--train",
            REF + "pil_unit",
            "--serve",
            REF + "pil_unit",
            "--images",
            str(image_dir),
            "--labels",
            str(labels),
            "--class-names",
            str(names),
        ],
    )
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and f"--class-names {names}" in line
    assert "did you mean 'rocket' or 'rocker'?" in line
    assert f"--labels {labels}:3: label 'rockett'" in line


def test_an_unknown_label_far_from_every_name_lists_some_names(image_dir, tmp_path):
    import skewcheck
    from skewcheck.errors import UsageError

    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\na/img0.png,zebra\n")
    with pytest.raises(UsageError, match=r"nor one of the 3 class names in class_names \('cat', 'dog', 'bird'\)"):
        skewcheck.compare(
            model=MODEL,
            train=REF + "pil_unit",
            serve=REF + "pil_unit",
            images=image_dir,
            labels=labels,
            class_names=["cat", "dog", "bird"],
        )


def test_html_zero_confidently_wrong_is_neutral_and_the_histogram_has_no_empty_ends(image_dir, tmp_path):
    import re

    import skewcheck
    from skewcheck.report import write_report

    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\n" + "".join(f"{d}/img{i}.png,{i % 5}\n" for i, d in enumerate("aaabbb")))
    report = skewcheck.compare(
        model=MODEL, train=REF + "pil_unit", serve=REF + "pil_unit_again", images=image_dir, labels=labels
    )
    summary = report.to_dict()["summary"]
    assert summary["confident_wrong"]["serve"] == 0
    write_report(report, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert '<div class="callout neutral"><b>0 confidently wrong' in html  # not in the red alert box
    conf = summary["confidence"]
    used = [i for i in range(len(conf["bins"]) - 1) if conf["train"][i] or conf["serve"][i]]
    section = html.split("<h2>Top-1 confidence")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td class=\"mono\">([0-9.]+)–", section)
    assert rows == [f"{conf['bins'][i]:.1f}" for i in range(used[0], used[-1] + 1)]
    assert len(rows) < len(conf["bins"]) - 1  # the tiny model's confidences sit in a few bins


def test_tensorflow_import_noise_stays_out_of_a_usage_error(image_dir, tmp_path):
    """In a fresh process, where the user's pipeline module is the first to import TensorFlow."""
    import subprocess
    import sys

    from tests.conftest import REPO

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("TF_CPP", "ABSL"))}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "skewcheck",
            "compare",
            "--quiet",
            "--train",
            "tests/tf_pipeline_for_tests.py:tf_unit",
            "--serve",
            REF + "pil_unit",
            "--images",
            str(image_dir),
            "--labels",
            str(tmp_path / "missing.csv"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"skewcheck: error: cannot read --labels {tmp_path / 'missing.csv'}: No such file or directory"
    ]


def test_the_progress_total_is_known_before_the_first_image(image_dir):
    import skewcheck

    calls = []
    skewcheck.compare(
        train=REF + "pil_unit",
        serve=REF + "pil_unit_again",
        images=image_dir,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[0] == (0, 7) and calls[-1] == (7, 7)  # 6 PNGs and a text file named .jpg


def test_the_readme_says_what_a_misspelled_flag_prints():
    from tests.conftest import REPO

    result = runner.invoke(app, ["compare", "--exmaple"])
    assert result.exit_code == 2
    error = result.output.strip().splitlines()[-1]
    assert error == "Error: No such option: --exmaple (Possible options: --example, --sample)"
    readme = (REPO / "README.md").read_text()
    assert f"`{error}`" in readme and "Try '… --help'" in readme
