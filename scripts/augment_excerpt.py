"""Regenerate the example runs of docs/augment.md by running the documented commands.

    python scripts/augment_excerpt.py          # rewrite docs/augment.md in place
    python scripts/augment_excerpt.py --check  # exit 1 when a committed excerpt is stale

Each block between ``<!-- run: ARGS -->`` and ``<!-- /run -->`` is replaced by what
``skewcheck augment ARGS`` prints from the repository root at 100 columns (every line from the
verdict on; the paths of this machine do not appear in it).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "augment.md"
BLOCK = re.compile(r"(<!-- run: (?P<args>.*?) -->\n).*?(<!-- /run -->)", re.DOTALL)


def excerpt(args: str) -> str:
    env = {
        **os.environ,
        "COLUMNS": "100",
        "NO_COLOR": "1",
        "TERM": "dumb",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    exe = Path(sys.executable).with_name("skewcheck")
    run = subprocess.run(
        [str(exe) if exe.exists() else "skewcheck", "augment", *shlex.split(args)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line.rstrip() for line in run.stdout.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(("FAIL", "PASS")))
    return "```\n$ skewcheck augment " + args + "\n" + "\n".join(lines[start:]) + "\n```\n"


def rewrite(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + excerpt(m.group("args")) + m.group(3), text)


if __name__ == "__main__":
    current = PAGE.read_text()
    fresh = rewrite(current)
    if "--check" in sys.argv:
        sys.exit(0 if fresh == current else 1)
    PAGE.write_text(fresh)
