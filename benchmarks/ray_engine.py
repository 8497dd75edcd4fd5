"""``--engine ray`` against ``--engine local``: throughput, overhead per image, driver memory (issue 15).

Builds, under a work folder (``--work``, default a temporary one):

* tiny 32x32 PNGs, ``--counts`` of them (default 1,000 and 10,000; ``benchmarks/memory.py``'s
  generator: ``--distinct`` distinct files, the rest hard links, nested folders);
* a small seeded Keras classifier on 32x32x3 (conv, pooling, dense 10): both sides go through
  the model, so the Ray run has model actors;
* ``pipelines.py``: PIL decode, /255 float32 (``unit``) and the same without /255 (``raw``).

Cases: ``identical`` (unit vs unit: no skew, the engine's own cost shows most), ``scale``
(unit vs raw: a scale finding on every image, diagnosis and attribution on the driver) and
``channels`` (unit vs BGR: a channel-order finding on every image, whose side the driver decides
from the file's own pixels, so it reads every image again). ``--uri`` gives the images as a
``file://`` URI, read through pyarrow by the pipelines and by the driver's diagnosis. For each
case and count, ``skewcheck compare --model M --train ... --serve ... --images DIR --report r.json
--quiet`` runs as a whole process with ``--engine local`` and with ``--engine ray`` (a local Ray
cluster that this process starts and stops), alternating, ``--rounds`` times. The driver's
resident memory is sampled from /proc every 0.25 s (Ray's own processes are not counted: they are
the cluster's): private memory (RssAnon) and, apart, the object store's shared pages it has read
(RssShmem, bounded by the store). Printed: median seconds, images/s, the ratio ray/local, the
driver's peak private RSS and that RSS at 25 %, 50 % and 75 % of the run (flat memory shows as
equal numbers), and, from the two
counts, Ray's extra seconds per image and its fixed start-up cost (least squares). Both engines'
reports are checked to agree (images, verdict, findings). Timings on a shared machine are noisy:
quote medians.

    python benchmarks/ray_engine.py [--counts 1000,10000] [--rounds 2] [--cases identical,scale] [--work DIR]
    python benchmarks/ray_engine.py --counts 200 --rounds 1 --cases identical     # smoke check
    python benchmarks/ray_engine.py --counts 1000,10000 --rounds 1 --cases channels --uri
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import make_images  # noqa: E402  (the same tiny PNGs as the memory benchmark)

ENGINES = ("local", "ray")
CASES = {"identical": ("unit", "unit"), "scale": ("unit", "raw"), "channels": ("unit", "bgr")}

PIPELINES = """import io

import numpy as np
from PIL import Image


def unit(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255


def raw(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32)


def bgr(data: bytes) -> np.ndarray:
    return np.ascontiguousarray(unit(data)[..., ::-1])
"""


def make_model(path: Path) -> None:
    if path.exists():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.save(path)


class RssSampler(threading.Thread):
    """The child's resident memory (MiB) every ``interval`` seconds, until it exits: ``samples``
    its private memory (RssAnon: heap, arrays; what grows if the driver kept per-image state),
    ``shared`` its RssShmem (pages of Ray's shared-memory object store the driver has read,
    bounded by the store's size; VmRSS counts both)."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[float] = []
        self.shared: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                fields = dict(
                    line.split(":", 1)
                    for line in Path(f"/proc/{self.pid}/status").read_text().splitlines()
                    if ":" in line
                )
            except OSError:
                return
            if "RssAnon" in fields:
                self.samples.append(int(fields["RssAnon"].split()[0]) / 1024)
                self.shared.append(int(fields.get("RssShmem", "0 kB").split()[0]) / 1024)
            self.done.wait(self.interval)


def run(engine: str, case: str, work: Path, images: str, report: Path) -> dict[str, float]:
    train, serve = CASES[case]
    cmd = [
        sys.executable,
        "-m",
        "skewcheck",
        "compare",
        "--model",
        str(work / "model.keras"),
        "--train",
        f"{work / 'pipelines.py'}:{train}",
        "--serve",
        f"{work / 'pipelines.py'}:{serve}",
        "--images",
        images,
        "--report",
        str(report),
        "--quiet",
        "--engine",
        engine,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = RssSampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        sys.exit(
            f"skewcheck compare --engine {engine} failed ({proc.returncode}):\n{err.decode(errors='replace')[-3000:]}"
        )
    rss = sampler.samples or [0.0]
    at = lambda q: rss[min(len(rss) - 1, int(q * len(rss)))]  # noqa: E731
    return {
        "seconds": seconds,
        "peak": max(rss),
        "q25": at(0.25),
        "q50": at(0.5),
        "q75": at(0.75),
        "shared": max(sampler.shared or [0.0]),
    }


def outline(report: Path) -> tuple[object, ...]:
    data = json.loads(report.read_text())
    findings = tuple((f["kind"], f["images"], f["flips"]) for f in data["findings"])
    return (
        data["summary"]["images"],
        len(data["images"]),
        data["verdict"],
        data["summary"].get("top1_agreement"),
        findings,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--counts", default="1000,10000")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cases", default="identical,scale")
    ap.add_argument("--distinct", type=int, default=1000, help="distinct PNGs; the rest are hard links to them")
    ap.add_argument("--work", type=Path, default=None, help="keep the generated images here for later runs")
    ap.add_argument("--uri", action="store_true", help="give --images as a file:// URI (read through pyarrow)")
    args = ap.parse_args()
    counts = sorted(int(c) for c in args.counts.split(","))
    cases = args.cases.split(",")
    work = (args.work or Path(tempfile.mkdtemp(prefix="skewcheck-ray-bench-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    (work / "pipelines.py").write_text(PIPELINES)
    make_model(work / "model.keras")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    if args.uri:
        print("images given as file:// URIs", flush=True)
    results: dict[tuple[str, int, str], list[dict[str, float]]] = {}
    try:
        for count in counts:
            make_images(work / f"images-{count}", count, min(count, args.distinct))
        for r in range(args.rounds):
            for case in cases:
                for count in counts:
                    order = ENGINES if r % 2 == 0 else ENGINES[::-1]  # alternate who goes first
                    seen = {}
                    for engine in order:
                        report = work / f"report-{case}-{count}-{engine}.json"
                        folder = work / f"images-{count}"
                        m = run(engine, case, work, folder.as_uri() if args.uri else str(folder), report)
                        seen[engine] = outline(report)
                        results.setdefault((case, count, engine), []).append(m)
                        print(
                            f"round {r + 1} {case:>9} {count:>6} {engine:>5}: {m['seconds']:7.1f} s, driver private RSS peak "
                            f"{m['peak']:6.0f} MiB (25/50/75% of the run: {m['q25']:.0f}/{m['q50']:.0f}/{m['q75']:.0f}), "
                            f"object-store pages {m['shared']:.0f} MiB",
                            flush=True,
                        )
                    assert seen["local"] == seen["ray"], f"the engines disagree: {seen}"
        print("\nmedians over rounds")
        print(
            "| case | images | local s | ray s | local img/s | ray img/s | ray/local throughput | driver private RSS peak local / ray MiB |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for case in cases:
            for count in counts:
                med = {e: statistics.median(m["seconds"] for m in results[(case, count, e)]) for e in ENGINES}
                peak = {e: statistics.median(m["peak"] for m in results[(case, count, e)]) for e in ENGINES}
                print(
                    f"| {case} | {count:,} | {med['local']:.1f} | {med['ray']:.1f} | {count / med['local']:.0f} | "
                    f"{count / med['ray']:.0f} | {med['local'] / med['ray']:.2f}x | {peak['local']:.0f} / {peak['ray']:.0f} |"
                )
            if len(counts) > 1:
                x = np.array(counts, float)
                extra = [
                    statistics.median(m["seconds"] for m in results[(case, c, "ray")])
                    - statistics.median(m["seconds"] for m in results[(case, c, "local")])
                    for c in counts
                ]
                slope, intercept = np.polyfit(x, np.array(extra), 1)
                print(
                    f"{case}: ray costs {1000 * slope:+.2f} ms per image and {intercept:+.1f} s fixed vs local (least squares over counts)"
                )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
