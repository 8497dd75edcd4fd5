"""Markdown, JUnit and HTML reports: counts agree with the JSON, user text is escaped, the HTML is
self-contained and renders in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import skewcheck
from skewcheck.errors import UsageError
from skewcheck.report import format_for, write_report
from tests.conftest import EXAMPLE, photo_like, write_png

REF = "tests/pipelines_for_tests.py:"
CHROMIUM = Path("/usr/bin/chromium")
EVIL_NAME = "<img src=x onerror=alert(1)>"
EVIL_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
CASE_CHILDREN = {"failure", "error", "skipped", "system-out", "system-err"}


pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative
SEVERITIES = ("info", "minor", "major", "critical")  # the documented order, restated: the oracle of _gated_images


@pytest.fixture(scope="module")
def example(example_report):
    return example_report


def _gated_images(data: dict) -> int:
    """Images carrying a finding kind whose merged finding is at or above the gate, from the JSON alone."""
    gate = SEVERITIES.index(data["gate"])
    severity = {}
    for f in data["findings"]:
        severity[f["kind"]] = max(severity.get(f["kind"], 0), SEVERITIES.index(f["severity"]))
    return sum(1 for r in data["images"] if any(severity.get(k, -1) >= gate for k in r["findings"]))


def _check_junit_shape(root: ET.Element) -> None:
    """The common JUnit schema CI systems read: testsuites/testsuite/testcase/(failure|error|skipped)."""
    assert root.tag == "testsuites"
    for suite in root:
        assert suite.tag == "testsuite" and suite.get("name")
        cases = list(suite)
        assert all(c.tag == "testcase" and c.get("name") and c.get("classname") for c in cases)
        assert int(suite.get("tests")) == len(cases)
        for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert int(suite.get(attr)) == sum(c.find(tag) is not None for c in cases)
        float(suite.get("time"))
        for case in cases:
            assert {child.tag for child in case} <= CASE_CHILDREN
            for failure in case.findall("failure"):
                assert failure.get("message") and failure.get("type")
    for attr in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(attr)) == sum(int(s.get(attr)) for s in root)


def test_junit_counts_equal_the_json_report(example):
    data = example.to_dict()
    root = ET.fromstring(example.to_junit())
    _check_junit_shape(root)
    assert int(root.get("tests")) == len(data["images"]) == EXAMPLE.images
    assert int(root.get("failures")) == _gated_images(data) == EXAMPLE.images
    # no probe metadata: one suite per top folder (the ten digit classes), one case per image
    assert {s.get("name"): int(s.get("tests")) for s in root} == {str(d): 6 for d in range(10)}
    assert sorted(c.get("name") for c in root.iter("testcase")) == sorted(r["path"] for r in data["images"])
    failure = root.find(".//testcase[@name='0/digit-0305.png']/failure")
    assert failure.get("message") == "critical scale (serve); major dtype (serve)"
    assert "fix: Divide the serve tensor by 255" in failure.text and "top-1 train 0 → serve 5" in failure.text


def test_junit_mixed_outcomes_and_skips(image_dir):
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_raw", images=image_dir)
    data = report.to_dict()
    root = ET.fromstring(report.to_junit())
    _check_junit_shape(root)
    assert int(root.get("tests")) == len(data["images"]) == 7
    assert int(root.get("failures")) == _gated_images(data) == 6
    junk = root.find(".//testcase[@name='b/notes.jpg']")
    assert junk.find("failure") is None and "decode-error" in junk.find("skipped").get("message")
    assert int(root.get("skipped")) == 1


def test_junit_flip_rate_gate_has_its_own_failing_case(example):
    example.max_flip_rate = 0.2
    try:
        root = ET.fromstring(example.to_junit())
        data = example.to_dict()
    finally:
        example.max_flip_rate = None
    gate = root.find("testsuite[@name='skewcheck gate']")
    failure = gate.find("testcase/failure")
    assert failure.get("message") == "flip rate 28.3% (17/60) > 0.2"
    assert data["gate_details"]["failed"] == ["fail-on", "max-flip-rate"]
    assert int(root.get("failures")) == 61


def test_markdown_has_verdict_findings_accuracy_and_what_would_pass(example):
    text = example.to_markdown()
    assert text.startswith("## ❌ skewcheck: FAIL")
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ \| ", line)]
    assert [r.split(" | ")[2] for r in rows] == ["scale", "dtype"]
    assert "Divide the serve tensor by 255" in rows[0]
    assert "| **accuracy, all** | 95.0% | 71.7% | -23.3 pts |" in text
    assert "| class 0 (6 images) | 100.0% | 0.0% | -100.0 pts |" in text  # worst class drop listed first
    assert "| 0.9–1.0 | 41 | 60 |" in text  # every serve prediction ≥ 0.9 confident …
    assert "serve 17, train 0" in text  # … and 17 of them wrong
    assert "--fail-on never" in text and "--max-flip-rate 0.284" in text and "--atol 254" in text
    assert len(text) < 65536  # a GitHub PR comment's limit


def test_html_is_self_contained_with_thumbnails_per_finding(example):
    page = example.to_html()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    thumbs = re.findall(r'<img alt="(train|serve|\|diff\|)" src="data:image/png;base64,', page)
    assert len(thumbs) == 2 * 3 * 3  # two findings × three worst examples × (train, serve, |diff|)
    assert page.count("<script>") == 1
    assert 'class="sortable"' in page


def test_json_report_keeps_its_contract_and_no_thumbnails(example):
    data = json.loads(example.to_json())
    assert data["schema"] == "skewcheck.report/v1"
    assert {"verdict", "exit_code", "gate", "model", "pipelines", "summary", "findings", "images"} <= set(data)
    assert all("thumbnails" not in f for f in data["findings"])
    assert data["gate_details"]["to_pass"] == {"fail_on": "never", "max_flip_rate": 0.283334, "tensor_atol": 254.0}
    assert data["summary"]["confident_wrong"]["serve"] == EXAMPLE.flips


def test_user_text_is_escaped_in_every_format(tmp_path):
    images = tmp_path / "images"
    write_png(images / "ok.png", photo_like(1))
    Image.fromarray(photo_like(2)).save(images / f"{EVIL_NAME}.jpg", format="PNG")
    write_png(images / "boom.png", photo_like(3))
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_raw_html_error", images=images)
    kinds = {f.kind for f in report.findings}
    assert {"scale", "pipeline-error"} <= kinds
    for text in (report.to_markdown(), report.to_junit(), report.to_html()):
        assert EVIL_NAME not in text and EVIL_ESCAPED in text
        assert "<script>alert(" not in text and "&lt;script&gt;alert(" in text
    assert report.to_html().count("<script>") == 1  # only the page's own sorting script


def test_control_characters_and_undecodable_file_names_still_give_valid_files(tmp_path):
    images = tmp_path / "images"
    write_png(images / "ok.png", photo_like(1))
    write_png(images / "ctl\x1bname.png", photo_like(2))
    write_png(Path(os.fsdecode(bytes(images) + b"/bad\xffname.png")), photo_like(3))
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_raw", images=images)
    for name in ("r.json", "r.md", "r.xml", "r.html"):
        write_report(report, tmp_path / name)
    root = ET.parse(tmp_path / "r.xml").getroot()
    names = sorted(c.get("name") for c in root.iter("testcase"))
    assert names == ["bad\\udcffname.png", "ctl\\x1bname.png", "ok.png"] and root.get("failures") == "3"
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "bad\\xffname.png" in html and "ctl\\x1bname.png" in html  # the file name's byte, as the terminal shows it


def test_format_from_extension_or_flag():
    assert [format_for(Path(p)) for p in ("a.json", "a.md", "a.xml", "a.html")] == ["json", "markdown", "junit", "html"]
    assert format_for(Path("summary.txt"), "markdown") == "markdown"
    with pytest.raises(UsageError):
        format_for(Path("summary.txt"))


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs headless Chromium at /usr/bin/chromium (apt-get install chromium)"
)
def test_html_renders_in_headless_chromium(example, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(example.to_html(), encoding="utf-8")
    shot = tmp_path / "shot.png"
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        page.as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.exists(), "Chromium wrote no screenshot"
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.shape == (2000, 1280, 3)
    banner = pixels[20:60, 600:700].reshape(-1, 3).mean(axis=0)
    assert banner[0] > 150 and banner[1] < 80  # the red FAIL banner is drawn
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500  # text, tables and thumbnails, not a blank page


def test_first_divergent_step_of_declarative_pipelines_in_markdown_and_html(image_dir):
    spec = "docs/examples/pipelines.toml"
    report = skewcheck.compare(train=f"{spec}#train", serve=f"{spec}#serve", images=image_dir)
    line = "First divergent step: #0 decode(tf, rgb) vs serve #0 decode(opencv, bgr"
    assert report.divergence and line in report.to_markdown()
    assert f'<p class="divergence">{line}' in report.to_html()
