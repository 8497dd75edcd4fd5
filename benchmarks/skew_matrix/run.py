"""The runner: every case through ``skewcheck.compare(...)`` in-process, one JSON row per case.

    python -m benchmarks.skew_matrix.run --work /tmp/skew-matrix [--seed 26] [--jobs 2] [--slice]
        [--limit N] [--out rows.jsonl]

``prepare`` writes the image families and the generated pipeline modules under ``--work``; each
case is then audited in the same process (``workers=0``, ``seed`` fixed; the model, when the case
has one, is the tiny Keras model loaded once per process). ``--jobs N`` splits the cases over N
processes (case i goes to process i mod N), each running its share in-process; the rows are
merged in case order. Before each audit the harness measures the case's truth (truth.py) with
the same pipeline functions; their tensors are cached (ops.py), so the audit's own pipeline calls
cost a copy and the time is the audit's.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

from benchmarks.skew_matrix import generate, images, models, truth  # noqa: E402
from benchmarks.skew_matrix.causes import BY_NAME  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SEED = 26


def prepare(work: Path, seed: int) -> tuple[list[generate.Case], dict[str, Path], dict[str, Path]]:
    """Images, cases and generated modules under ``work`` (rewritten identically on every call)."""
    work = Path(work)
    all_cases = generate.cases(seed)
    folders = images.write_families(work / "images", seed)
    modules = generate.write_modules(all_cases, work / "pipelines", REPO, seed)
    return all_cases, folders, modules


_MODULES: dict[Path, Any] = {}


def _module(path: Path) -> Any:
    if path not in _MODULES:
        spec = importlib.util.spec_from_file_location(f"_skew_matrix_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[path] = module
    return _MODULES[path]


def run_case(case: generate.Case, folder: Path, module: Path, work: Path, seed: int) -> dict[str, Any]:
    import skewcheck

    mod = _module(module)
    files = sorted(str(p) for p in folder.iterdir())
    alone = {}
    for i, name in enumerate(case.causes):
        fn = getattr(mod, f"{case.fn}__{i}") if case.group == "pair" else getattr(mod, case.fn)
        alone[name] = (fn, BY_NAME[name].kind, BY_NAME[name].accepted)
    t0 = time.perf_counter()
    fact = truth.measure(files, getattr(mod, f"train_{case.spec}"), getattr(mod, case.fn), alone, case.model, work)
    t1 = time.perf_counter()
    row: dict[str, Any] = {**case.to_dict(), "name": case.name, "truth": fact.to_dict(), "truth_s": round(t1 - t0, 3)}
    model = models.runner(case.model, work) if case.model else "none"
    try:
        report = skewcheck.compare(
            model=model,
            train=f"{module}:train_{case.spec}",
            serve=f"{module}:{case.fn}",
            images=folder,
            workers=0,
            seed=seed,
            task=models.TASK.get(case.model or ""),
        )
    except Exception as exc:  # noqa: BLE001 - an audit that cannot run is a result of the matrix
        row.update(exit_code=None, findings=[], error=f"{type(exc).__name__}: {exc}"[:300])
    else:
        row.update(
            exit_code=report.exit_code,
            findings=[
                {"kind": f.kind, "severity": f.severity.label, "side": f.side, "images": f.images, "flips": f.flips}
                for f in report.findings
            ],
            flips=report.summary.get("flips"),
            error=None,
        )
        report.close()
    row["audit_s"] = round(time.perf_counter() - t1, 3)
    return row


def run_cases(
    chosen: list[generate.Case], folders: dict[str, Path], modules: dict[str, Path], work: Path, seed: int, log=None
) -> list[dict[str, Any]]:
    rows = []
    for n, case in enumerate(chosen, 1):
        rows.append(run_case(case, folders[case.family], modules[case.family], work, seed))
        if log is not None and (n % 100 == 0 or n == len(chosen)):
            log(f"{n}/{len(chosen)} cases")
    return rows


def select(
    all_cases: list[generate.Case], seed: int, sliced: bool, limit: int | None, match: str | None = None
) -> list[generate.Case]:
    chosen = generate.pick_slice(all_cases, seed) if sliced else all_cases
    if match:  # a developer's subset while working on one detector: the cases whose name matches
        chosen = [c for c in chosen if re.search(match, c.name)]
    return chosen[:limit] if limit else chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--slice", action="store_true", help="the pinned test's slice only")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--match", default=None, help="only the cases whose name matches this regular expression")
    ap.add_argument("--shard", default=None, help="i/n: run every n-th case from i (what --jobs starts)")
    ap.add_argument("--out", type=Path, default=None, help="rows as JSON lines (default WORK/rows.jsonl)")
    args = ap.parse_args(argv)
    out = args.out or args.work / "rows.jsonl"
    all_cases, folders, modules = (
        prepare(args.work, args.seed) if args.shard is None else _prepared(args.work, args.seed)
    )
    chosen = select(all_cases, args.seed, args.slice, args.limit, args.match)
    if args.shard is not None:
        i, n = (int(x) for x in args.shard.split("/"))
        log = lambda m: print(f"shard {i}/{n}: {m}", file=sys.stderr, flush=True)  # noqa: E731
        rows = run_cases(chosen[i::n], folders, modules, args.work, args.seed, log=log)
        out.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return 0
    t0 = time.perf_counter()
    if args.jobs <= 1:
        rows = run_cases(chosen, folders, modules, args.work, args.seed, log=lambda m: print(m, file=sys.stderr))
    else:
        rows = _parallel(args, len(chosen))
    rows.sort(key=lambda r: r["id"])
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} cases in {time.perf_counter() - t0:.0f} s -> {out}", file=sys.stderr)
    return 0


def _prepared(work: Path, seed: int) -> tuple[list[generate.Case], dict[str, Path], dict[str, Path]]:
    """A shard's view of what the parent prepared (the same seed gives the same cases)."""
    all_cases = generate.cases(seed)
    folders = {f: work / "images" / f for f in images.FAMILIES}
    modules = {f: work / "pipelines" / f"m_{f}.py" for f in images.FAMILIES}
    return all_cases, folders, modules


def _parallel(args: argparse.Namespace, total: int) -> list[dict[str, Any]]:
    procs = []
    for i in range(args.jobs):
        cmd = [sys.executable, "-m", "benchmarks.skew_matrix.run", "--work", str(args.work), "--seed", str(args.seed)]
        cmd += ["--shard", f"{i}/{args.jobs}", "--out", str(args.work / f"rows-{i}.jsonl")]
        cmd += ["--slice"] if args.slice else []
        cmd += ["--limit", str(args.limit)] if args.limit else []
        cmd += ["--match", args.match] if args.match else []
        procs.append(subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}))
    for p in procs:
        if p.wait() != 0:
            raise SystemExit(f"a shard failed: {p.args}")
    rows = []
    for i in range(args.jobs):
        rows += [json.loads(line) for line in (args.work / f"rows-{i}.jsonl").read_text().splitlines()]
    assert len(rows) == total, (len(rows), total)
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
