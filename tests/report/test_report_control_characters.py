"""Issue 24 item 12: the Markdown and HTML reports carry no raw control character from the data.

A file name holding ``ESC[2J`` (clear the screen), an OSC title sequence ended by BEL, or the
8-bit CSI (U+009B) reached ``report.md`` and ``report.html`` raw, so ``cat report.md`` in a CI log
ran them. Now they are written as visible escapes, as the terminal report writes them.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from tests.conftest import photo_like, write_png

REF = "tests/pipelines_for_tests.py:"
HOSTILE = "x\x1b[2J\x1b]0;pwned\x07.png"
EIGHT_BIT_CSI = "y\x9b2J.png"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # line breaks and tabs are the page's layout

pytestmark = pytest.mark.usefixtures("run_from_repo")


@pytest.mark.parametrize("extension", ["md", "html"])
def test_control_characters_in_file_names_are_visible_escapes_in_the_report(tmp_path, extension):
    images = tmp_path / "imgs"
    for i, name in enumerate([HOSTILE, EIGHT_BIT_CSI]):
        write_png(images / name, photo_like(i))
    report = tmp_path / f"report.{extension}"
    args = ["--train", REF + "pil_unit", "--serve", REF + "pil_raw", "--images", str(images), "--quiet"]
    result = CliRunner().invoke(app, ["compare", *args, "--report", str(report)])
    assert result.exit_code == 1, result.output  # the scale skew: the names are in its examples
    page = report.read_text(encoding="utf-8")
    assert CONTROL.findall(page) == []
    shown = r"x\x1b\[2J\x1b\]0;pwned\x07.png" if extension == "md" else r"x\x1b[2J\x1b]0;pwned\x07.png"
    assert shown in page
    assert r"y\x9b2J.png" in page
