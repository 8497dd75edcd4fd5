"""Regenerate docs/profile.md's output excerpts by running the documented commands.

    python scripts/profile_excerpt.py          # rewrite docs/profile.md in place
    python scripts/profile_excerpt.py --check  # exit 1 when a committed excerpt is stale

The traffic folders are the tests' (tests/traffic_folders.py: 20 production files of known make-up,
40 reference JPEGs), written into a temporary folder; the commands run there, at 100 columns,
with the folder's path left out of what is shown.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "profile.md"
END = "<!-- /excerpt -->"


def _run(args: list[str], cwd: Path) -> list[str]:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-m", "skewcheck", *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"skewcheck {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return [line.replace(f"{cwd}/", "").rstrip() for line in done.stdout.splitlines()]


def excerpts() -> dict[str, str]:
    sys.path.insert(0, str(REPO))
    from tests.traffic_folders import write_production, write_reference

    with tempfile.TemporaryDirectory(prefix="skewcheck-profile-doc-") as tmp:
        work = Path(tmp).resolve()
        write_production(work / "prod")
        write_reference(work / "train")
        args = ["profile", "--images", "prod", "--reference", "train", "--workers", "0", "--report", "prod.json"]
        lines = _run(args, work)
        end = next(i for i, line in enumerate(lines) if line.startswith("Categories"))
        terminal = "\n".join(["$ skewcheck " + " ".join(args), *lines[:end]])
        data = json.loads((work / "prod.json").read_text())
        shown = {
            "schema": data["schema"],
            "traits": {"exif_rotated": data["traits"]["exif_rotated"]},
            "numbers": {"width": data["numbers"]["width"]},
            "failures": {"count": data["failures"]["count"], "listed": data["failures"]["listed"][:1]},
            "files": [data["files"][2]],
        }
    return {
        "skewcheck profile": f"```text\n{terminal}\n```",
        "profile JSON": "```json\n" + json.dumps(shown, indent=2, ensure_ascii=False) + "\n```",
    }


def rewrite(text: str, name: str, block: str) -> str:
    begin = f"<!-- excerpt: {name} -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(END), re.DOTALL)
    return pattern.sub(lambda _: f"{begin}\n{block}\n{END}", text)


def main(check: bool) -> int:
    current = DOC.read_text()
    fresh = current
    for name, block in excerpts().items():
        fresh = rewrite(fresh, name, block)
    if fresh == current:
        return 0
    if check:
        print("stale excerpts in docs/profile.md (run: python scripts/profile_excerpt.py)")
        return 1
    DOC.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
