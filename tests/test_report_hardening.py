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


EVIL_NAMES = ["[/].png", "![x](http:evil).png", "a\x1b[2Jb.png", "t\x1b]0;pwned\x07.png", "[bold red]x.png"]


@pytest.fixture
def evil_dir(tmp_path):
    from tests.conftest import photo_like, write_png

    root = tmp_path / "evil"
    for i, name in enumerate(EVIL_NAMES):
        write_png(root / name, photo_like(i))  # "[/].png" is the file "].png" in a folder "["
    return root


def test_file_names_reach_the_terminal_as_plain_visible_text(evil_dir):
    result = runner.invoke(app, ["compare", "--train", REF + "pil_unit", "--serve", REF + "pil_raw",
                                 "--images", str(evil_dir)], env={"COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 1, result.output  # scale skew found, no MarkupError
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out  # no raw escape sequence reaches the terminal
    for shown in ("[/].png", "![x](http:evil).png", "a\\x1b[2Jb.png", "t\\x1b]0;pwned\\x07.png", "[bold red]x.png"):
        assert shown in out, shown


def test_usage_errors_escape_control_characters_and_markup(tmp_path):
    missing = tmp_path / "no\x1b]0;pwned\x07[/]dir"
    result = runner.invoke(app, ["compare", "--quiet", "--train", REF + "pil_unit", "--serve", REF + "pil_raw",
                                 "--images", str(missing)])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "\x1b" not in result.output and "no\\x1b]0;pwned\\x07[/]dir" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_class_names_and_refs_are_not_markup(image_dir, tmp_path):
    names = tmp_path / "classes.txt"
    names.write_text("[/]\n[red]cat\n\x1b[2Jdog\n:smile:\nfive\n")
    labels = tmp_path / "labels.csv"
    label_names = ["[/]", "[red]cat", "\x1b[2Jdog"]
    labels.write_text("file,label\n" + "".join(f"{d}/img{i}.png,{label_names[i % 3]}\n" for i, d in enumerate("aaabbb")))
    result = runner.invoke(app, ["compare", "--model", MODEL, "--train", REF + "pil_unit", "--serve", REF + "pil_raw",
                                 "--images", str(image_dir), "--labels", str(labels), "--class-names", str(names)],
                           env={"COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.stdout
    assert "class [/]" in result.stdout and "class \\x1b[2Jdog" in result.stdout


def test_a_file_size_limit_leaves_the_previous_report_intact(image_dir, tmp_path):
    import resource
    import subprocess
    import sys

    report = tmp_path / "r.html"
    report.write_text("previous report\n")

    def limit() -> None:  # a write past 4 KiB fails with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    proc = subprocess.run(
        [sys.executable, "-m", "skewcheck", "compare", "--quiet", "--train", REF + "pil_unit", "--serve", REF + "pil_raw",
         "--images", str(image_dir), "--report", str(report)],
        capture_output=True, text=True, preexec_fn=limit, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("skewcheck: error: cannot write report") and len(proc.stderr.splitlines()) == 1
    assert report.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "r.html"]  # no temporary file left


def test_concurrent_writers_never_leave_a_partial_report(image_dir, tmp_path):
    import threading

    reports = [skewcheck.compare(train=REF + "pil_unit", serve=REF + serve, images=image_dir)
               for serve in ("pil_unit_again", "pil_raw")]  # fmt: skip
    path = tmp_path / "r.json"
    write_report(reports[0], path)
    stop, bad = threading.Event(), []

    def writer(report) -> None:
        while not stop.is_set():
            write_report(report, path)

    def reader() -> None:
        for _ in range(300):
            try:
                json.loads(path.read_text())
            except ValueError as exc:
                bad.append(exc)

    threads = [threading.Thread(target=writer, args=(r,)) for r in reports]
    for t in threads:
        t.start()
    reader()
    stop.set()
    for t in threads:
        t.join()
    assert not bad, f"{len(bad)} of 300 reads saw a partial report: {bad[0]}"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
