"""Regenerate the README's excerpt of ``skewcheck compare --example`` by running the command.

    python scripts/readme_excerpt.py          # rewrite README.md in place
    python scripts/readme_excerpt.py --check  # exit 1 when the committed excerpt is stale

The excerpt is the verdict line, the findings table and the after-every-fix line, at 100 columns.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- excerpt: skewcheck compare --example -->", "<!-- /excerpt -->"


def excerpt() -> str:
    checkout = str(README.parent)  # this checkout's package, whatever copy is installed
    path = os.pathsep.join(p for p in (checkout, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "PYTHONPATH": path}
    exe = Path(sys.executable).with_name("skewcheck")  # the documented command, from this environment
    run = subprocess.run([str(exe) if exe.exists() else "skewcheck", "compare", "--example"], env=env,
                         capture_output=True, text=True, check=False)  # fmt: skip
    lines = run.stdout.splitlines()
    verdict = [i for i, line in enumerate(lines) if line.startswith(("FAIL", "PASS"))][0]
    table = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    after = next(i for i, line in enumerate(lines) if line.startswith("after every fix"))
    end = after + 1
    while end < len(lines) and lines[end].strip() and not lines[end].startswith(("Accuracy", "┏")):
        end += 1  # the after-every-fix sentence may wrap
    kept = lines[verdict : verdict + 2] + lines[table:end]
    return "```\n" + "\n".join(line.rstrip() for line in kept) + "\n```"


def rewrite(text: str, block: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    return pattern.sub(lambda _: f"{BEGIN}\n{block}\n{END}", text)


if __name__ == "__main__":
    current = README.read_text()
    fresh = rewrite(current, excerpt())
    if "--check" in sys.argv:
        sys.exit(0 if fresh == current else 1)
    README.write_text(fresh)
