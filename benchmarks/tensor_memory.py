"""Peak memory of ``skewcheck compare`` on one image whose pipelines return one large tensor
(issue 24 item 4: a 400 MiB tensor, under the 512 MiB default cap, took 4.9 GB in-process and
6.5 GB with workers).

The train pipeline returns a float32 (H, W, 3) tensor of about ``--mib`` MiB made from the image's
pixels, the serve pipeline the same times 1.01 (a scale skew, so the diagnosis runs on it). Each
run is a whole child process: its peak RSS (``os.wait4``'s rusage) and the largest sum of RSS over
it and its workers (sampled every 20 ms from /proc), as multiples of the tensor's size.

    python benchmarks/tensor_memory.py [--mib 400] [--workers 0,1] [--skewcheck DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

PIPELINES = """import io, os

import numpy as np
from PIL import Image

SIDE = int(os.environ["TENSOR_SIDE"])


def _big(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        small = np.asarray(im.convert("RGB"), dtype=np.float32) / 255
    return np.tile(small, (SIDE // small.shape[0], SIDE // small.shape[1], 1))


def train(data: bytes) -> np.ndarray:
    return _big(data)


def serve(data: bytes) -> np.ndarray:
    out = _big(data)
    out *= 1.01
    return out
"""


def _tree(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [pid], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(skewcheck: Path, work: Path, side: int, workers: int) -> tuple[int, int, int]:
    """(exit code, the skewcheck process's max RSS, the largest sum of RSS over it and its
    descendants, sampled every 20 ms), in KiB."""
    env = {**os.environ, "PYTHONPATH": str(skewcheck), "TENSOR_SIDE": str(side)}
    args = [sys.executable, "-m", "skewcheck", "compare", "--model", "none", "--quiet"]
    args += ["--train", f"{work}/p.py:train", "--serve", f"{work}/p.py:serve", "--images", str(work / "images")]
    args += ["--workers", str(workers), "--max-tensor-mb", "1024"]
    # run from that checkout: ``-m skewcheck`` finds the current folder's package before PYTHONPATH's
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, cwd=skewcheck)
    tree_peak = 0
    while True:
        done, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if done:
            break
        tree_peak = max(tree_peak, sum(_rss_kib(p) for p in _tree(proc.pid)))
        time.sleep(0.02)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss, tree_peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=float, default=400.0)
    parser.add_argument("--workers", default="0,1")
    parser.add_argument("--skewcheck", type=Path, default=ROOT)
    args = parser.parse_args()
    side = int((args.mib * 2**20 / 12) ** 0.5) // 16 * 16
    tensor_mib = side * side * 12 / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "p.py").write_text(PIPELINES)
        (work / "images").mkdir()
        from PIL import Image

        pixels = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(work / "images" / "a.png")
        print(f"tensor: {side}x{side}x3 float32 = {tensor_mib:.0f} MiB ({args.skewcheck})")
        for workers in [int(w) for w in args.workers.split(",")]:
            code, own, tree = run(args.skewcheck, work, side, workers)
            print(
                f"--workers {workers}: exit {code}, max RSS {own / 2**10:.0f} MiB ({own / 2**10 / tensor_mib:.1f}x the "
                f"tensor); with its workers {tree / 2**10:.0f} MiB ({tree / 2**10 / tensor_mib:.1f}x, sampled)"
            )


if __name__ == "__main__":
    main()
