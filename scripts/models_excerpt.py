"""Regenerate the example runs of docs/models.md by running the documented commands.

    python scripts/models_excerpt.py          # rewrite docs/models.md in place
    python scripts/models_excerpt.py --check  # exit 1 when a committed excerpt is stale

Each block between ``<!-- run: ARGS -->`` and ``<!-- /run -->`` is replaced by what
``skewcheck compare ARGS`` prints from the repository root at 100 columns: the verdict line and
the findings table, up to the after-every-fix line. The commands run on this checkout's code
(``PYTHONPATH``), whichever copy of skewcheck the environment has installed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "models.md"
BLOCK = re.compile(r"(<!-- run: (?P<args>.*?) -->\n).*?(<!-- /run -->)", re.DOTALL)


def excerpt(args: str) -> str:
    env = {
        **os.environ,
        "COLUMNS": "100",
        "NO_COLOR": "1",
        "TERM": "dumb",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }  # this checkout
    exe = Path(sys.executable).with_name("skewcheck")  # the documented command, from this environment
    run = subprocess.run(
        [str(exe) if exe.exists() else "skewcheck", "compare", *shlex.split(args)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line.rstrip() for line in run.stdout.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(("FAIL", "PASS")))
    end = next((i for i, line in enumerate(lines) if line.startswith("after every fix")), None)
    if end is None:  # no finding: the verdict and the "No finding" line
        end = next(i for i, line in enumerate(lines) if line.startswith("No finding"))
    end += 1
    while end < len(lines) and lines[end].strip() and not lines[end].startswith(("Accuracy", "┏", "Worst", "Probe")):
        end += 1  # a sentence may wrap
    model = next(i for i in range(start, end) if lines[i].startswith("model "))  # the verdict may wrap
    table = next((i for i in range(model, end) if lines[i].startswith(("Findings", "No finding"))), end)
    kept = lines[start:model] + lines[table:end]
    return "```\n$ skewcheck compare " + args + "\n" + "\n".join(kept) + "\n```\n"


def rewrite(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + excerpt(m.group("args")) + m.group(3), text)


if __name__ == "__main__":
    current = PAGE.read_text()
    fresh = rewrite(current)
    if "--check" in sys.argv:
        sys.exit(0 if fresh == current else 1)
    PAGE.write_text(fresh)
