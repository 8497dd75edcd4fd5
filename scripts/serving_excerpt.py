"""Regenerate the example-server runs of docs/serving.md by running the documented commands.

    python scripts/serving_excerpt.py          # rewrite docs/serving.md in place
    python scripts/serving_excerpt.py --check  # exit 1 when a committed excerpt is stale

Each block between ``<!-- serve: BUG ARGS -->`` and ``<!-- /serve -->`` is replaced by what
``skewcheck compare ARGS`` prints at 100 columns while the example KServe server
(fixtures/serving_example.py) runs with ``--bug BUG`` on a free port: the verdict line and the
findings table (or the "No finding" line). ``P`` in ARGS is that port, and the port is shown as
``P``. Exit 2 when no Python with kserve can be found or built (tests then skip, saying why).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "serving.md"
BLOCK = re.compile(r"(<!-- serve: (?P<bug>\w+) (?P<args>.*?) -->\n).*?(<!-- /serve -->)", re.DOTALL)
sys.path.insert(0, str(REPO))

from tests.serving_server import example_server, kserve_python_or_reason  # noqa: E402


def excerpt(args: str, port: str) -> str:
    env = {
        **os.environ,
        "COLUMNS": "100",
        "NO_COLOR": "1",
        "TERM": "dumb",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }  # this checkout
    exe = Path(sys.executable).with_name("skewcheck")
    argv = shlex.split(args.replace(":P/", f":{port}/"))
    run = subprocess.run(
        [str(exe) if exe.exists() else "skewcheck", "compare", *argv],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line.rstrip().replace(f":{port}/", ":P/") for line in run.stdout.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(("FAIL", "PASS")))
    none = next((i for i, line in enumerate(lines) if line.startswith("No finding")), None)
    end = none if none is not None else next(i for i, line in enumerate(lines) if line.startswith("└"))
    head, keep = [], True
    for line in lines[start : end + 1]:  # drop the model/pipelines and loosest-passing lines, wrapped or not
        if line.startswith(("model ", "minimum that would pass")):
            keep = False
        elif line.startswith(("Findings", "┏", "No finding")):
            keep = True
        if keep:
            head.append(line)
    shown = ["$ skewcheck compare " + args, *head, f"(exit code {run.returncode})"]
    return "```text\n" + "\n".join(shown) + "\n```\n"


def main(check: bool, servers: Callable[[str], str] | None = None) -> int:
    """``servers(bug)``: the base URL of a running example server with that bug (the tests pass
    the servers they started for tests/serving/test_serving.py); without it one is started here per bug."""
    text = PAGE.read_text()
    bugs = sorted({m["bug"] for m in BLOCK.finditer(text)})
    log_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    with contextlib.ExitStack() as stack:
        if servers is None:
            python, how = kserve_python_or_reason()
            if python is None:
                print(f"no Python with kserve for the example server: {how}")
                return 2
            bases = {
                bug: stack.enter_context(example_server(python, bug, log_dir / f"skewcheck-doc-server-{bug}.log"))
                for bug in bugs
            }
        else:
            bases = {bug: servers(bug) for bug in bugs}
        fresh = BLOCK.sub(
            lambda m: m.group(1) + excerpt(m["args"], bases[m["bug"]].rsplit(":", 1)[1]) + m.group(4), text
        )
    if fresh == text:
        return 0
    if check:
        print("docs/serving.md is stale (run: python scripts/serving_excerpt.py)")
        return 1
    PAGE.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
