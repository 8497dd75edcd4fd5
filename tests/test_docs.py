"""Docs that are generated from code stay in step with it."""

from __future__ import annotations

from skewcheck.diagnose.catalog import render
from skewcheck.findings import KINDS
from tests.conftest import REPO


def test_findings_page_is_current_and_covers_every_kind():
    page = (REPO / "docs" / "findings.md").read_text()
    assert page == render(), "regenerate: python -m skewcheck.diagnose.catalog > docs/findings.md"
    titles = [line[3:] for line in page.splitlines() if line.startswith("## ")]
    covered = {kind for title in titles for kind in KINDS if kind in title.replace(" / ", " ").split()}
    assert covered == set(KINDS)
