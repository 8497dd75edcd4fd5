"""``--report PATH`` for a profile: the format from the extension, written as compare's reports are."""

from __future__ import annotations

from pathlib import Path

from skewcheck.profile.model import Profile
from skewcheck.report.destination import report_format, write_report_file
from skewcheck.safe_text import visible_page

FORMATS = ("json", "markdown", "junit", "html")


def profile_format(path: Path) -> str:
    return report_format(path, FORMATS, has_flag=False)  # profile has no --format


def write_profile(profile: Profile, path: Path) -> None:
    fmt = profile_format(path)
    if fmt == "json":
        write_report_file(path, profile.write_json)
        return
    data = profile.to_dict()
    if fmt == "markdown":
        from skewcheck.profile.render_markdown import render_markdown

        text = visible_page(render_markdown(data))
    elif fmt == "junit":
        from skewcheck.profile.render_junit import render_junit

        text = render_junit(data)
    else:
        from skewcheck.profile.render_html import render_html

        text = render_html(data)
    write_report_file(path, lambda out: out.write(text))
