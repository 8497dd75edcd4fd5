"""Peak memory and wall time of ``skewcheck compare`` as the number of images grows (issue 11).

Runs ``skewcheck compare --model none`` with identical pipelines (PIL decode, /255 float32) and a
JSON report, as a whole child process, on 1,000, 10,000 and 100,000 tiny generated PNGs
(``--counts``), and prints each run's peak RSS (``os.wait4``'s rusage of that child), its wall
time, the peak ratio against the smallest count, and the wall-time slope (seconds per 1,000
images, least squares over the counts).

Generating many files is slow on some disks: ``--distinct N`` writes only N distinct PNGs and
fills the larger folders with hard links to them, spread over nested folders (each image is
still read, decoded, compared and recorded once per link). ``--skewcheck DIR`` times another
checkout (e.g. one before a change).

    python benchmarks/memory.py [--counts 1000,10000,100000] [--distinct 10000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIZE = 32

PIPELINES = """import io

import numpy as np
from PIL import Image


def unit(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255
"""


def _name(i: int) -> str:
    return f"{i // 10000:02d}/{(i // 100) % 100:02d}/{i:06d}.png"  # at most 100 files a folder


def make_images(folder: Path, count: int, distinct: int) -> None:
    from PIL import Image

    marker = folder.with_name(folder.name + ".complete")  # not inside: every file there is an image
    if marker.exists() and marker.read_text() == f"{count} {distinct}":
        return
    shutil.rmtree(folder, ignore_errors=True)
    marker.unlink(missing_ok=True)
    rng = np.random.default_rng(0)
    base = np.clip(rng.normal(128, 40, (SIZE, SIZE, 3)), 0, 255).astype(np.uint8)
    firsts: list[Path] = []
    for i in range(count):
        path = folder / _name(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        if i < distinct:
            Image.fromarray(np.roll(base, (i, i // SIZE), axis=(0, 1)) ^ np.uint8(i % 251)).save(path)
            firsts.append(path)
        else:
            os.link(firsts[i % distinct], path)
    marker.write_text(f"{count} {distinct}")


def run(skewcheck: Path, work: Path, images: Path, report: Path) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of one whole ``skewcheck compare`` process."""
    cmd = [
        sys.executable,
        "-m",
        "skewcheck",
        "compare",
        "--model",
        "none",
        "--train",
        f"{work / 'pipelines.py'}:unit",
        "--serve",
        f"{work / 'pipelines.py'}:unit",
        "--images",
        str(images),
        "--report",
        str(report),
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(skewcheck.resolve())}
    start = time.perf_counter()
    # run from the checkout: ``python -m`` puts the working directory first on sys.path
    proc = subprocess.Popen(cmd, env=env, cwd=skewcheck, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"skewcheck compare failed ({proc.returncode}):\n{err[-3000:]}")
    return usage.ru_maxrss / 1024, seconds  # ru_maxrss is in KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--counts", default="1000,10000,100000")
    ap.add_argument("--distinct", type=int, default=None, help="distinct PNGs; the rest are hard links to them")
    ap.add_argument("--work", type=Path, default=None, help="keep the generated images here for later runs")
    ap.add_argument("--skewcheck", type=Path, default=ROOT, help="the checkout to measure")
    args = ap.parse_args()
    counts = sorted(int(c) for c in args.counts.split(","))
    work = (args.work or Path(tempfile.mkdtemp(prefix="skewcheck-memory-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    (work / "pipelines.py").write_text(PIPELINES)
    rows = []
    try:
        for count in counts:
            images = work / f"images-{count}"
            t0 = time.perf_counter()
            make_images(images, count, min(count, args.distinct or count))
            made = time.perf_counter() - t0
            report = work / f"report-{count}.json"
            peak, seconds = run(args.skewcheck, work, images, report)
            data = json.loads(report.read_text())
            assert data["summary"]["images"] == len(data["images"]) == count, "every image is in the report"
            rows.append((count, peak, seconds))
            print(
                f"{count:>7} images: peak RSS {peak:7.1f} MiB, {seconds:7.1f} s "
                f"({count / seconds:6.0f} images/s; images made in {made:.0f} s)",
                flush=True,
            )
        base = rows[0][1]
        print(f"\npeak RSS vs {rows[0][0]} images: " + ", ".join(f"{c}: {p / base:.2f}x" for c, p, _ in rows))
        if len(rows) > 1:
            x = np.array([c for c, _, _ in rows], float)
            y = np.array([s for _, _, s in rows], float)
            slope, intercept = np.polyfit(x, y, 1)
            print(f"wall time: {1000 * slope:.2f} s per 1,000 images (+ {intercept:.1f} s start-up), least squares")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
