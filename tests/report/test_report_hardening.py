"""Reports survive odd data (NaN tensors) and odd file names, and are written atomically."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from jinja2 import StrictUndefined
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
    result = runner.invoke(
        app,
        [
            "compare",
            "--quiet",
            "--train",
            REF + "pil_unit",
            "--serve",
            REF + "all_nan",
            "--images",
            str(image_dir),
            *(a for p in out for a in ("--report", str(p))),
        ],
    )
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
    result = runner.invoke(
        app,
        ["compare", "--train", REF + "pil_unit", "--serve", REF + "pil_raw", "--images", str(evil_dir)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 1, result.output  # scale skew found, no MarkupError
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out  # no raw escape sequence reaches the terminal
    for shown in ("[/].png", "![x](http:evil).png", "a\\x1b[2Jb.png", "t\\x1b]0;pwned\\x07.png", "[bold red]x.png"):
        assert shown in out, shown


def test_usage_errors_escape_control_characters_and_markup(tmp_path):
    missing = tmp_path / "no\x1b]0;pwned\x07[/]dir"
    result = runner.invoke(
        app, ["compare", "--quiet", "--train", REF + "pil_unit", "--serve", REF + "pil_raw", "--images", str(missing)]
    )
    assert result.exit_code == 2, result.output
    assert "\x1b" not in result.output and "no\\x1b]0;pwned\\x07[/]dir" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_class_names_and_refs_are_not_markup(image_dir, tmp_path):
    names = tmp_path / "classes.txt"
    names.write_text("[/]\n[red]cat\n\x1b[2Jdog\n:smile:\nfive\n")
    labels = tmp_path / "labels.csv"
    label_names = ["[/]", "[red]cat", "\x1b[2Jdog"]
    labels.write_text(
        "file,label\n" + "".join(f"{d}/img{i}.png,{label_names[i % 3]}\n" for i, d in enumerate("aaabbb"))
    )
    result = runner.invoke(
        app,
        [
            "compare",
            "--model",
            MODEL,
            "--train",
            REF + "pil_unit",
            "--serve",
            REF + "pil_raw",
            "--images",
            str(image_dir),
            "--labels",
            str(labels),
            "--class-names",
            str(names),
        ],
        env={"COLUMNS": "200"},
    )
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
        [
            sys.executable,
            "-m",
            "skewcheck",
            "compare",
            "--quiet",
            "--train",
            REF + "pil_unit",
            "--serve",
            REF + "pil_raw",
            "--images",
            str(image_dir),
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("skewcheck: error: cannot write report") and len(proc.stderr.splitlines()) == 1
    assert report.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "r.html"]  # no temporary file left


def test_concurrent_writers_never_leave_a_partial_report(image_dir, tmp_path):
    import threading

    reports = [
        skewcheck.compare(train=REF + "pil_unit", serve=REF + serve, images=image_dir)
        for serve in ("pil_unit_again", "pil_raw")
    ]
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


HOSTILE = "<script>x\"y'z"  # markup and both quotes; no "/", so it can be a file and a folder name
HOSTILE_SERVE = f"""
import io
from pathlib import Path

import numpy as np
from PIL import Image


class Boom(Exception):
    pass


Boom.__name__ = {HOSTILE!r}  # the error type lands in the finding's evidence


def train(data: bytes):
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def serve(path: str):
    if Path(path).name.startswith("boom"):
        raise Boom({HOSTILE!r})
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
"""


class _PageText(HTMLParser):
    """The decoded text of a page, by the classes of the elements around it; every attribute value."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        self.text: list[tuple[tuple[str, ...], str]] = []
        self.attrs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [v for _, v in attrs if v]
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        self.text.append((tuple(f"{t}.{c}" for t, c in self.stack), data))

    def where(self, value: str) -> list[tuple[str, ...]]:
        return [around for around, data in self.text if value in data]


@pytest.mark.parametrize("route", ["api", "cli"])
def test_hostile_values_are_escaped_everywhere_in_the_html_page(tmp_path, route):
    from tests.conftest import photo_like, write_png

    images = tmp_path / "images"
    for i, name in enumerate(["ok.png", f"{HOSTILE}.png", "boom.png", "more.png"]):
        write_png(images / name, photo_like(i))
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "file,label\n"
        + "".join(f'"{n.replace(chr(34), chr(34) * 2)}",{HOSTILE}\n' for n in ["ok.png", f"{HOSTILE}.png", "more.png"])
    )
    names = tmp_path / "classes.txt"
    names.write_text(f"{HOSTILE}\nb\nc\nd\ne\n")  # the model's five classes, one named like the rest
    pipes = tmp_path / HOSTILE / "pipes.py"  # the pipeline references name this folder
    pipes.parent.mkdir()
    pipes.write_text(HOSTILE_SERVE)
    page_path = tmp_path / "r.html"
    args = {
        "model": MODEL,
        "train": f"{pipes}:train",
        "serve": f"{pipes}:serve",
        "images": str(images),
        "labels": str(labels),
        "class-names": str(names),
    }
    if route == "api":
        write_report(skewcheck.compare(**{k.replace("-", "_"): v for k, v in args.items()}), page_path)
    else:
        result = runner.invoke(
            app,
            ["compare", "--quiet", *(a for k, v in args.items() for a in (f"--{k}", v)), "--report", str(page_path)],
        )
        assert result.exit_code == 1, result.output
    page = page_path.read_text(encoding="utf-8")

    escaped = "&lt;script&gt;x&#34;y&#39;z"
    assert HOSTILE not in page and "<script>x" not in page
    assert page.count("<script") == 1 and page.count("</script") == 1  # only the page's own sorting script
    parsed = _PageText()
    parsed.feed(page)
    parsed.close()
    assert parsed.tags.count("script") == 1
    assert not any(HOSTILE in v for v in parsed.attrs)  # never in an attribute, so never a way out of one
    shown_times = sum(data.count(HOSTILE) for _, data in parsed.text)
    assert shown_times == page.count(escaped) >= 12  # each time it is shown, it is written escaped
    shown = {around[-1] for around in parsed.where(HOSTILE)}  # the innermost element around each
    expected = {
        "span.mono",  # the train and serve pipeline references in the banner
        "div.path mono",  # an example's file name
        "td.mono",  # the worst images' table
        "div.evidence",  # the evidence of the pipeline-error finding (its error type)
        "figcaption.",  # the serve side's status under the failed example
        "td.",  # the pipeline error's explanation in the findings table, the class in the accuracy table
        "p.",  # the explanation in the finding's article
    }
    assert expected <= shown, shown


def test_the_template_never_turns_escaping_off():
    from skewcheck.report.html import environment

    env = environment()
    assert env.autoescape is True and env.undefined is StrictUndefined
    for name in env.list_templates():
        source = env.loader.get_source(env, name)[0]
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup", source), name
