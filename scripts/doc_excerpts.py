"""Regenerate the output excerpts in README.md and docs/pipelines.md by running their commands.

    python scripts/doc_excerpts.py          # rewrite the files in place
    python scripts/doc_excerpts.py --check  # exit 1 when a committed excerpt is stale

Each excerpt sits between ``<!-- excerpt: NAME -->`` and ``<!-- /excerpt -->``: the verdict
lines, the findings table and the after-every-fix line of the documented command, at 100 columns.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
END = "<!-- /excerpt -->"
PIPELINES = [
    "compare",
    "--train",
    "docs/examples/pipelines.toml#train",
    "--serve",
    "docs/examples/pipelines.toml#serve",
    "--model",
    "none",
]
TRACED = [  # Python pipelines in several modules: the findings name their lines (skewcheck.trace)
    "compare",
    "--model",
    "none",
    "--train",
    "tests/traced_pipelines/train.py:preprocess",
    "--serve",
    "tests/traced_pipelines/serve.py:nearest",
    "--images",
    "skewcheck/example/images",
]
EXCERPTS = {  # file → excerpt name → the skewcheck arguments it shows
    REPO / "README.md": {"skewcheck compare --example": ["compare", "--example"]},
    REPO / "docs" / "pipelines.md": {
        "skewcheck compare (declarative pipelines)": PIPELINES,
        "skewcheck compare (Python pipelines, line trace)": TRACED,
    },
}


def run(args: list[str]) -> list[str]:
    """The documented command's stdout lines, from this checkout's package."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "PYTHONPATH": path}
    exe = Path(sys.executable).with_name("skewcheck")
    done = subprocess.run(
        [str(exe) if exe.exists() else "skewcheck", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.splitlines()


def excerpt(args: list[str]) -> str:
    lines = run(args)
    verdict = next(i for i, line in enumerate(lines) if line.startswith(("FAIL", "PASS")))
    table = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    end = next((i for i, line in enumerate(lines) if line.startswith("after every fix")), table)
    end += 1
    while end < len(lines) and lines[end].strip() and not lines[end].startswith(("Accuracy", "┏", "Probe", "Worst")):
        end += 1  # the table's last rows, or the after-every-fix sentence, may wrap
    head, keep = [], True
    for line in lines[verdict:table]:  # drop the model/pipelines line (it names this machine's paths)
        if line.startswith(("model ", "minimum that would pass")):  # and the loosest passing settings
            keep = False
        elif line.startswith(("First divergent step", "Step by step", "Op lists", "Findings")):
            keep = True
        if keep:
            head.append(line)
    shown = ["$ skewcheck " + " ".join(args), *head, *lines[table:end]]
    return "```text\n" + "\n".join(line.rstrip() for line in shown) + "\n```"


def rewrite(text: str, name: str, block: str) -> str:
    begin = f"<!-- excerpt: {name} -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(END), re.DOTALL)
    return pattern.sub(lambda _: f"{begin}\n{block}\n{END}", text)


def main(check: bool) -> int:
    stale = []
    for path, blocks in EXCERPTS.items():
        current = path.read_text()
        fresh = current
        for name, args in blocks.items():
            fresh = rewrite(fresh, name, excerpt(args))
        if fresh != current:
            stale.append(path.name)
            if not check:
                path.write_text(fresh)
    if check and stale:
        print("stale excerpts in: " + ", ".join(stale) + " (run: python scripts/doc_excerpts.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
