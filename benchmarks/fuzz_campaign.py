"""The issue 10 fuzz campaign: mutated probe files through whole ``skewcheck compare`` processes.

Writes a seeded corpus of mutated probe files (tests/mutation_corpus.py: bit flips, truncations,
inserted/deleted/spliced chunks, corrupted headers), then runs ``python -m skewcheck compare
--model none`` over all of it, as a child process, for each pipeline pair (PIL vs OpenCV,
PIL vs tf.io; every pipeline decodes and resizes) in-process and with ``--workers 2``, and prints
per run and in total:

- inputs: files in the corpus;
- exit codes seen;
- crashes: a run whose exit code is not one of skewcheck's (0..3: a signal, an OOM kill, a
  timeout) or whose stderr holds a Python traceback;
- lost images: inputs missing from the run's JSON report (all of them when there is no report);
- max RSS: the peak resident set of the child (``os.wait4``'s rusage, which also covers the
  worker processes it waited for), and at the end resource.getrusage(RUSAGE_CHILDREN).ru_maxrss,
  the largest of any of them.

``--skewcheck DIR`` runs another checkout's package (e.g. the commit before the hardening:
``git worktree add /tmp/old 37e27d0`` then ``--skewcheck /tmp/old``); the corpus and the
pipelines are always this checkout's, so both see the same bytes.

Measured on a loaded 2-core machine, ``--count 800`` (seed 0), on ec5125c+ and on 37e27d0 (before
the hardening), both: 800 inputs x 4 runs, exit codes {1}, 0 crashes, 0 lost images; max RSS 2.1 GiB
(PIL vs OpenCV, in-process and in a worker: cv2.imdecode of one header-corrupted 16-bit PNG,
00607.chelsea.png-16bit.header.png, allocates ~2 GB by itself), ~600 MiB with tf.io.

    python benchmarks/fuzz_campaign.py [--count 2400] [--seed 0] [--skewcheck DIR] [--work DIR]
                                       [--pairs pil:opencv,pil:tf] [--workers 0,2] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.mutation_corpus import write_corpus  # noqa: E402

PIPELINES = ROOT / "tests" / "mutation_corpus.py"


def run_one(
    skewcheck: Path, images: Path, names: list[str], train: str, serve: str, workers: int, report: Path, timeout: float
) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "skewcheck",
        "compare",
        "--model",
        "none",
        "--train",
        f"{PIPELINES}:{train}",
        "--serve",
        f"{PIPELINES}:{serve}",
        "--images",
        str(images),
        "--report",
        str(report),
        "--quiet",
        "--fail-on",
        "major",
    ]
    if workers:
        cmd += ["--workers", str(workers), "--timeout", "60"]
    env = {**os.environ, "PYTHONPATH": str(skewcheck.resolve()), "TF_CPP_MIN_LOG_LEVEL": "3"}
    report.unlink(missing_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        # from the checkout: ``python -m`` puts the working directory first on sys.path
        proc = subprocess.Popen(cmd, env=env, cwd=skewcheck, stdout=subprocess.DEVNULL, stderr=err)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    wall = time.perf_counter() - start
    try:
        reported = {r["path"] for r in json.loads(report.read_text())["images"]}
    except (OSError, ValueError, KeyError, TypeError):
        reported = set()
    rc = proc.returncode
    traceback = "Traceback (most recent call last)" in stderr
    return {
        "pair": f"{train} vs {serve}",
        "workers": workers,
        "inputs": len(names),
        "exit_code": rc,
        "crashed": rc not in (0, 1, 2, 3) or traceback,
        "traceback": traceback,
        "lost": len(set(names) - reported),
        "max_rss_mib": usage.ru_maxrss / 1024,
        "wall_s": wall,
        "stderr_tail": stderr[-1500:] if (traceback or rc not in (0, 1, 2, 3)) else "",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2400, help="mutated files (default 2400)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skewcheck", type=Path, default=ROOT, help="checkout whose package runs")
    ap.add_argument("--work", type=Path, default=None, help="folder for the corpus and reports")
    ap.add_argument("--pairs", default="pil:opencv,pil:tf", help="train:serve pipeline pairs")
    ap.add_argument("--workers", default="0,2", help="worker counts to run each pair with")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds one compare run may take")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="skewcheck-fuzz-"))
    images = work / f"corpus-{args.count}-{args.seed}"
    names = write_corpus(images, args.count, seed=args.seed)
    print(f"skewcheck: {args.skewcheck.resolve()}  corpus: {images} ({len(names)} files, seed {args.seed})")
    runs = []
    for pair in args.pairs.split(","):
        train, serve = pair.split(":")
        for workers in (int(w) for w in args.workers.split(",")):
            r = run_one(
                args.skewcheck,
                images,
                names,
                train,
                serve,
                workers,
                work / f"report-{train}-{serve}-w{workers}.json",
                args.timeout,
            )
            runs.append(r)
            print(
                f"{r['pair']:<16} workers={workers}  inputs={r['inputs']}  exit={r['exit_code']}  "
                f"crashed={'yes' if r['crashed'] else 'no'}  lost={r['lost']}  "
                f"max_rss={r['max_rss_mib']:.0f} MiB  wall={r['wall_s']:.1f} s",
                flush=True,
            )
            if r["stderr_tail"]:
                print("  stderr tail:\n    " + r["stderr_tail"].replace("\n", "\n    "))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    total = {
        "inputs": len(names),
        "runs": len(runs),
        "file_runs": sum(r["inputs"] for r in runs),
        "exit_codes": sorted({r["exit_code"] for r in runs}),
        "crashes": sum(r["crashed"] for r in runs),
        "lost_images": sum(r["lost"] for r in runs),
        "max_rss_children_mib": round(children),
    }
    print(
        f"total: inputs={total['inputs']} x {total['runs']} runs  exit codes seen={total['exit_codes']}  "
        f"crashes={total['crashes']}  lost images={total['lost_images']}  "
        f"max RSS (RUSAGE_CHILDREN)={total['max_rss_children_mib']} MiB"
    )
    if args.json:
        args.json.write_text(json.dumps({"total": total, "runs": runs}, indent=2))
    return 1 if total["crashes"] or total["lost_images"] else 0


if __name__ == "__main__":
    sys.exit(main())
