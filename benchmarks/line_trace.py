"""What the line trace of Python pipelines (skewcheck.trace, issue 31) costs an audit.

Whole ``skewcheck compare`` processes, alternated within each round (which goes first alternates
too), with the line trace on (as shipped) and off (the child process replaces
``skewcheck.audit.line_tracer`` by one that returns None before running the CLI); medians over the
rounds and their ratio. Two audits:

* ``example``: ``skewcheck compare --example`` (60 images, the Keras model, TensorFlow's import);
* ``jpegs``: N 512x512 JPEGs, ``--model none``, both pipelines Python callables of this file, serve
  resizing with BICUBIC instead of BILINEAR so that every image has a finding.

The "traced" column is the report's own ``line_trace.seconds`` (the traced calls and the alignment).

    python benchmarks/line_trace.py [ROUNDS] [N]   # defaults 5 and 300
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve()
SIZE = (224, 224)

CHILD = """
import sys
import skewcheck.audit
if sys.argv[1] == "off":
    skewcheck.audit.line_tracer = lambda train, serve: None
from skewcheck.cli import app
sys.argv = ["skewcheck", *sys.argv[2:]]
app()
"""


def train(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
    small = rgb.resize(SIZE, Image.BILINEAR)
    pixels = np.asarray(small, dtype=np.float32)
    return pixels / 255


def serve_bicubic(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
    small = rgb.resize(SIZE, Image.BICUBIC)
    pixels = np.asarray(small, dtype=np.float32)
    return pixels / 255


def make_images(root: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:512, 0:512] / 512
    smooth = np.stack([np.sin(6 * x + c) * np.cos(4 * y - c) for c in range(3)], -1) * 90 + 128
    for i in range(count):
        noise = rng.normal(0, 12, (512, 512, 3))
        image = np.clip(np.roll(smooth, 3 * i, axis=1) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(image).save(root / f"{i:04d}.jpg", quality=90)


def run(mode: str, args: list[str], report: Path) -> tuple[float, float | None]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, *args, "--quiet", "--fail-on", "never", "--report", str(report)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{mode} {args}: exit {done.returncode}\n{done.stderr[-2000:]}")
    traced = (json.loads(report.read_text()).get("line_trace") or {}).get("seconds")
    return wall, traced


def measure(name: str, args: list[str], rounds: int, tmp: Path) -> None:
    times: dict[str, list[float]] = {"off": [], "on": []}
    traced: list[float] = []
    for r in range(rounds):
        for mode in ("off", "on") if r % 2 == 0 else ("on", "off"):
            wall, seconds = run(mode, args, tmp / f"{name}-{mode}.json")
            times[mode].append(wall)
            if mode == "on" and seconds is not None:
                traced.append(seconds)
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    print(
        f"{name:8s} off {off:7.2f} s   on {on:7.2f} s   on/off {on / off:6.3f}  "
        f"({100 * (on / off - 1):+.1f} %)   traced {statistics.median(traced) if traced else 0:.3f} s  "
        f"[{rounds} rounds; off {', '.join(f'{t:.2f}' for t in times['off'])}; on {', '.join(f'{t:.2f}' for t in times['on'])}]"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        images = tmp / "images"
        images.mkdir()
        make_images(images, count)
        measure("example", ["compare", "--example"], rounds, tmp)
        jpegs = ["compare", "--model", "none", "--workers", "0", "--images", str(images)]
        jpegs += ["--train", f"{HERE}:train", "--serve", f"{HERE}:serve_bicubic"]
        measure(f"jpegs{count}", jpegs, rounds, tmp)


if __name__ == "__main__":
    main()
