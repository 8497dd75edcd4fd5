"""skewcheck profile against the hand-written PIL loop that opens each file and reads its size and
EXIF orientation (issue 30): throughput, and memory on many small files.

Builds N JPEGs under a work folder (``--images``, default 2000; seeded 320-800 px gradients with
noise, quality 70-95, one in four with EXIF orientation 6), then runs, as whole processes,
alternating, ``--rounds`` times (default 3):

* ``loop``: ``for f in files: Image.open(f); im.size; im.getexif().get(0x0112)`` (headers only);
* ``profile``: ``skewcheck profile --images DIR --report p.json -q``: every file's headers (format,
  mode, size, EXIF, ICC, JPEG tables, subsampling, quality, truncation from the tail), a full
  decode and pixel statistics on the default pixel sample (500 files), the JSON; workers ``auto``
  (on 2-3 CPUs: one decode helper process for the pixel sample);
* ``profile-1p``: the same with ``--workers 0`` (one process);
* ``profile-hdr``: ``--pixel-sample 0`` (headers only, what the loop reads and more; one process);
* with ``--all``, ``profile-all``: ``--pixel-sample all --workers 0`` (every file decoded);
* with ``--workers N``, ``profile-Nw``: ``--workers N``;
* with ``--pixel-sample N``, ``profile-psN``: ``--pixel-sample N`` (workers ``auto``): what the
  pixel sample's size costs;
* with ``--baseline DIR`` (another commit's tree), ``profile@base`` and ``profile-1p@base``.

Prints per round (and the 1-minute load average after it: the benchmark's own process counts
about 1), then the median seconds of each case, images/s, the median over rounds of the ratio of
images/s to the loop's (each round's pair), the median CPU seconds (user + system of the
process and the children it waited for: workers and the decode helper included) and the median
ratio of the loop's CPU seconds to the case's (on a machine other jobs share, wall time depends on
what they leave free; CPU time much less), and memory: the peak RSS of the main process (its
VmHWM) and the peak of the sum of RSS over the process and its children (workers included;
sampled every 20 ms, so a lower bound).

``--tiny N`` builds N tiny JPEGs (16-64 px, written from 64 encoded variants, so 100,000 take
seconds) instead, for memory at many files.

    python benchmarks/profile_throughput.py [--images 2000] [--rounds 3] [--tiny N] [--all]
        [--workers N] [--pixel-sample N] [--baseline DIR] [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
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


def _exif() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6
    return exif.tobytes()


def build(folder: Path, n: int) -> None:
    """N photo-like JPEGs of 320-800 px: a gradient plus a window of one shared noise field."""
    from PIL import Image

    rng = np.random.default_rng(30)
    folder.mkdir(parents=True, exist_ok=True)
    exif = _exif()
    noise = rng.normal(0, 8, (1200, 1200, 3)).astype(np.float32)
    for i in range(n):
        w, h = (int(v) for v in rng.integers(320, 801, 2))
        x = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
        y = np.linspace(0, 255, h, dtype=np.float32)[:, None, None]
        top, left = (int(v) for v in rng.integers(0, 400, 2))
        pixels = (x * rng.random(3) + y * rng.random(3)) / 2 + noise[top : top + h, left : left + w]
        im = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        kw = {"exif": exif} if i % 4 == 0 else {}
        im.save(folder / f"{i:06d}.jpg", quality=int(rng.integers(70, 96)), **kw)


def build_tiny(folder: Path, n: int) -> None:
    """N tiny JPEGs, 1,000 a subfolder, written from 64 encoded variants (every fourth with EXIF)."""
    from PIL import Image

    rng = np.random.default_rng(30)
    exif = _exif()
    variants = []
    for i in range(64):
        w, h = (int(v) for v in rng.integers(16, 65, 2))
        out = io.BytesIO()
        im = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        im.save(out, "JPEG", quality=int(rng.integers(70, 96)), **({"exif": exif} if i % 4 == 0 else {}))
        variants.append(out.getvalue())
    for i in range(n):
        sub = folder / f"{i // 1000:04d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:07d}.jpg").write_bytes(variants[i % 64])


def _tree(pid: int) -> list[int]:
    pids, stack = [], [pid]
    while stack:
        p = stack.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                stack += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return pids


def _field(pid: int, name: str) -> int:
    try:
        return int(Path(f"/proc/{pid}/status").read_text().split(name + ":")[1].split()[0])
    except (OSError, IndexError, ValueError):  # not Linux, or the process just ended
        return 0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], root: Path = ROOT) -> tuple[float, int, int, float]:
    """(wall seconds, peak RSS of the process itself in KiB: its VmHWM, polled every 20 ms,
    peak of the summed VmRSS of it and its descendants, KiB, CPU seconds of the process and the
    descendants it waited for). ``wait4``'s ru_maxrss would count this parent's memory, inherited
    at fork. skewcheck is imported from ``root``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached (written by the first run)
    cpu = _children_cpu()
    started = time.perf_counter()
    # in ``root``: ``python -m`` puts the working folder ahead of PYTHONPATH
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = tree = 0
    while proc.poll() is None:
        peak = max(peak, _field(proc.pid, "VmHWM"))
        tree = max(tree, sum(_field(p, "VmRSS") for p in _tree(proc.pid)))
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    cpu = _children_cpu() - cpu  # the process is reaped (poll): its CPU, its waited children's included
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {stderr[-2000:]}")
    return elapsed, peak, tree, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--tiny", type=int, help="build this many tiny JPEGs instead (memory at many files)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="also time --pixel-sample all (every file decoded)")
    parser.add_argument("--workers", type=int, action="append", default=[], help="also time --workers N (repeatable)")
    parser.add_argument(
        "--pixel-sample", type=int, action="append", default=[], help="also time --pixel-sample N (repeatable)"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of another commit (git archive REV | tar -x -C DIR): its profile and profile-1p alternate too",
    )
    parser.add_argument("--work", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = (args.work or Path(tempfile.mkdtemp(prefix="skewcheck-profile-bench-"))).resolve()
    n = args.tiny or args.images
    folder = work / (f"tiny-{n}" if args.tiny else f"images-{n}")
    marker = work / f"{folder.name}.built"  # beside the folder: the loop and the profile read every file in it
    if not marker.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        (build_tiny if args.tiny else build)(folder, n)
        print(f"built {n} {'tiny ' if args.tiny else ''}JPEGs in {time.perf_counter() - started:.1f} s under {folder}")
        marker.write_text("")
    loop = work / "loop.py"
    loop.write_text(LOOP)
    skewcheck = [sys.executable, "-m", "skewcheck", "profile", "--images", str(folder), "-q"]
    cases = {
        "loop": [sys.executable, str(loop), str(folder)],
        "profile": [*skewcheck, "--report", str(work / "p.json")],
        "profile-1p": [*skewcheck, "--workers", "0", "--report", str(work / "p1.json")],
        "profile-hdr": [*skewcheck, "--pixel-sample", "0", "--report", str(work / "ph.json")],
    }
    if args.all:
        cases["profile-all"] = [
            *skewcheck,
            "--workers",
            "0",
            "--pixel-sample",
            "all",
            "--report",
            str(work / "pa.json"),
        ]
    for count in args.workers:
        cases[f"profile-{count}w"] = [*skewcheck, "--workers", str(count), "--report", str(work / f"p{count}w.json")]
    for count in args.pixel_sample:
        cases[f"profile-ps{count}"] = [
            *skewcheck,
            "--pixel-sample",
            str(count),
            "--report",
            str(work / f"ps{count}.json"),
        ]
    roots = dict.fromkeys(cases, ROOT)
    if args.baseline:
        for name in ("profile", "profile-1p"):
            cases[f"{name}@base"] = [*cases[name][:-1], str(work / f"{name}-base.json")]
            roots[f"{name}@base"] = args.baseline.resolve()
    times: dict[str, list[float]] = {name: [] for name in cases}
    rss: dict[str, list[int]] = {name: [] for name in cases}
    tree: dict[str, list[int]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    loads: list[float] = []  # other jobs on the machine: wall time depends on what they leave free
    for r in range(args.rounds):
        for name, cmd in cases.items():
            seconds, peak, summed, cpu = run(cmd, roots[name])
            cpus[name].append(cpu)
            times[name].append(seconds)
            rss[name].append(peak)
            tree[name].append(summed)
        loads.append(os.getloadavg()[0])
        print(
            f"round {r + 1}: " + ", ".join(f"{c} {times[c][-1]:.2f} s" for c in cases) + f" (load {loads[-1]:.2f})",
            flush=True,
        )
    print(
        f"\n{n} {'tiny ' if args.tiny else ''}images, {args.rounds} rounds, {os.cpu_count()} CPUs (medians);"
        f" 1-minute load average {min(loads):.2f}-{max(loads):.2f} after the rounds"
    )
    print(
        f"{'case':<16} {'seconds':>8} {'images/s':>9} {'ratio vs loop':>14} {'CPU s':>6} {'CPU ratio':>10}"
        f" {'main RSS':>9} {'tree RSS':>9}"
    )
    for name in cases:
        ratios = [lt / t for lt, t in zip(times["loop"], times[name], strict=True)]  # images/s ratio
        cpu_ratios = [lc / c for lc, c in zip(cpus["loop"], cpus[name], strict=True)]
        median = statistics.median(times[name])
        print(
            f"{name:<16} {median:>8.2f} {n / median:>9.0f} {statistics.median(ratios):>14.2f}"
            f" {statistics.median(cpus[name]):>6.2f} {statistics.median(cpu_ratios):>10.2f}"
            f" {statistics.median(rss[name]) / 1024:>5.0f} MiB {statistics.median(tree[name]) / 1024:>5.0f} MiB"
        )
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
