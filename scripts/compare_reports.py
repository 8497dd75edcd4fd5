"""Same reports before and after a refactor: run a few audits, save their JSON, diff field by field.

    python scripts/compare_reports.py run OUT [--ray]   # writes OUT/<case>.json (+ .exit)
    python scripts/compare_reports.py diff BEFORE AFTER  # every differing field, timings aside

Cases: the bundled example in-process, with ``--workers 2`` and with ``--sample 20``, and a
tensor-only audit (``--model none``) of two pipelines of ``tests/skew_pairs.py`` on the probe set
that ``skewcheck probe-images`` writes (in-process and with ``--workers 2``); ``--ray`` adds the
example on ``--engine ray``. The skewcheck run is the one ``python -m skewcheck`` imports: set
``PYTHONPATH`` to the checkout under test. Exit status of ``diff``: 0 identical, 1 not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# clock times; the images folder (a temporary one here); a Ray cluster's free resources (the machine's state)
TIMING_KEYS = {"seconds", "images_root", "cluster"}
PAIRS = "tests/skew_pairs.py"
CASES: dict[str, list[str]] = {
    "example": ["--example"],
    "example-workers2": ["--example", "--workers", "2"],
    "example-sample20": ["--example", "--sample", "20"],
    "probes-opencv": ["--model", "none", "--train", f"{PAIRS}:reference", "--serve", f"{PAIRS}:serve_opencv_service"],
    "probes-opencv-workers2": [
        "--model",
        "none",
        "--train",
        f"{PAIRS}:reference",
        "--serve",
        f"{PAIRS}:serve_opencv_service",
        "--workers",
        "2",
    ],
}
RAY_CASES = {"example-ray": ["--example", "--engine", "ray"]}


def run(out: Path, ray: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="skewcheck-probes-") as probes:
        subprocess.run([sys.executable, "-m", "skewcheck", "probe-images", probes], check=True, capture_output=True)
        for name, args in {**CASES, **(RAY_CASES if ray else {})}.items():
            report = out / f"{name}.json"
            if "none" in args:
                args = [*args, "--images", probes]
            done = subprocess.run(
                [sys.executable, "-m", "skewcheck", "compare", *args, "--report", str(report)],
                capture_output=True,
                text=True,
            )
            (out / f"{name}.exit").write_text(f"{done.returncode}\n")
            print(f"{name}: exit {done.returncode}", file=sys.stderr)
            if done.returncode not in (0, 1):
                print(done.stderr[-2000:], file=sys.stderr)


def scrubbed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: scrubbed(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [scrubbed(v) for v in value]
    if isinstance(value, str):  # memory addresses in some exception messages; temporary folder names
        value = re.sub(r" at 0x[0-9a-fA-F]+", " at 0x…", value)
        value = re.sub(r"_skewcheck_user_[0-9]+_", "_skewcheck_user_…_", value)  # a per-process module name
        return re.sub(r"skewcheck-probes-[A-Za-z0-9_]+", "skewcheck-probes-…", value)
    return value


def differences(a: Any, b: Any, where: str = "$") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}.{k}: only in {'before' if k in a else 'after'}" for k in sorted(set(a) ^ set(b))]
        for k in a:
            if k in b:
                out += differences(a[k], b[k], f"{where}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = [f"{where}: {len(a)} items before, {len(b)} after"] if len(a) != len(b) else []
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            out += differences(x, y, f"{where}[{i}]")
        return out
    return [] if a == b else [f"{where}: {a!r} before, {b!r} after"]


def diff(before: Path, after: Path) -> int:
    failed = 0
    for old in sorted(before.glob("*.json")):
        new = after / old.name
        exits = [
            (d / f"{old.stem}.exit").read_text().strip() for d in (before, after) if (d / f"{old.stem}.exit").exists()
        ]
        if not new.exists():
            print(f"{old.stem}: no report after")
            failed += 1
            continue
        found = differences(scrubbed(json.loads(old.read_text())), scrubbed(json.loads(new.read_text())))
        if not found and json.dumps(scrubbed(json.loads(old.read_text()))) != json.dumps(
            scrubbed(json.loads(new.read_text()))
        ):
            found.append("the same fields in another order")
        if len(set(exits)) > 1:
            found.insert(0, f"exit status {exits[0]} before, {exits[1]} after")
        print(f"{old.stem}: {'identical' if not found else f'{len(found)} differences'}")
        for line in found[:40]:
            print(f"    {line}")
        failed += bool(found)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "run":
        run(Path(argv[1]), ray="--ray" in argv)
        return 0
    if len(argv) == 3 and argv[0] == "diff":
        return diff(Path(argv[1]), Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    os.environ.setdefault("SKEWCHECK_NO_COLOR", "1")
    sys.exit(main(sys.argv[1:]))
