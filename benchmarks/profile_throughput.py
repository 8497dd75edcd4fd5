"""skewcheck profile against the hand-written PIL loop that opens each file and reads its size and
EXIF orientation (issue 30).

Builds N JPEGs under a work folder (``--images``, default 2000; seeded 320-800 px smooth
gradients with noise, quality 70-95, one in four with EXIF orientation 6), then runs, as whole
processes, alternating, ``--rounds`` times (default 3):

* ``loop``: ``for f in files: Image.open(f); im.size; im.getexif().get(0x0112)`` (headers only);
* ``profile``: ``skewcheck profile --images DIR --report p.json -q`` (headers, a thumbnail decode,
  pixel statistics, the JSON), its workers on ``auto``;
* ``profile-1p``: the same with ``--workers 0`` (one process).

Prints the median seconds of each, images/s, and the median ratio of images/s (profile / loop)
over the rounds; with ``--memory``, the peak RSS of each main process (workers not counted). Timings
on a shared machine are noisy: quote medians.

    python benchmarks/profile_throughput.py [--images 2000] [--rounds 3] [--work DIR] [--keep] [--memory]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LOOP = """import sys
from pathlib import Path
from PIL import Image
sizes, rotated = set(), 0
for path in sorted(Path(sys.argv[1]).rglob("*")):
    if path.is_file():
        with Image.open(path) as im:
            sizes.add(im.size)
            rotated += im.getexif().get(0x0112, 1) != 1
print(len(sizes), rotated)
"""


def build(folder: Path, n: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(30)
    folder.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    for i in range(n):
        w, h = (int(v) for v in rng.integers(320, 801, 2))
        x = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
        y = np.linspace(0, 255, h, dtype=np.float32)[:, None, None]
        pixels = (x * rng.random(3) + y * rng.random(3)) / 2 + rng.normal(0, 8, (h, w, 3))
        im = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        kw = {"exif": exif.tobytes()} if i % 4 == 0 else {}
        im.save(folder / f"{i:06d}.jpg", quality=int(rng.integers(70, 96)), **kw)


def run(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB of the process itself: its VmHWM, polled every 20 ms;
    ``wait4``'s ru_maxrss would count this parent's memory, inherited at fork)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):  # not Linux, or the process just ended
            pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {stderr[-2000:]}")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--memory", action="store_true", help="also print peak RSS of the one-process runs")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="skewcheck-profile-bench-"))
    folder = work / f"images-{args.images}"
    if not folder.is_dir() or len(list(folder.iterdir())) != args.images:
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        build(folder, args.images)
        print(f"built {args.images} JPEGs in {time.perf_counter() - started:.1f} s under {folder}")
    loop = work / "loop.py"
    loop.write_text(LOOP)
    skewcheck = [sys.executable, "-m", "skewcheck", "profile", "--images", str(folder), "-q"]
    cases = {
        "loop": [sys.executable, str(loop), str(folder)],
        "profile": [*skewcheck, "--report", str(work / "p.json")],
        "profile-1p": [*skewcheck, "--workers", "0", "--report", str(work / "p1.json")],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    rss: dict[str, list[int]] = {name: [] for name in cases}
    for r in range(args.rounds):
        for name, cmd in cases.items():
            seconds, peak = run(cmd)
            times[name].append(seconds)
            rss[name].append(peak)
        print(f"round {r + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in cases), flush=True)
    print(f"\n{args.images} images, {args.rounds} rounds, {os.cpu_count()} CPUs (medians)")
    print(f"{'case':<12} {'seconds':>8} {'images/s':>9} {'ratio vs loop':>14}" + ("  peak RSS" if args.memory else ""))
    for name in cases:
        ratios = [
            lt / t for lt, t in zip(times["loop"], times[name], strict=True)
        ]  # images/s ratio = time ratio inverted
        median = statistics.median(times[name])
        line = f"{name:<12} {median:>8.2f} {args.images / median:>9.0f} {statistics.median(ratios):>14.2f}"
        if args.memory:
            line += f"  {statistics.median(rss[name]) / 1024:.0f} MiB"
        print(line)
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
