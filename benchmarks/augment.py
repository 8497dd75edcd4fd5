"""skewcheck augment against the loop a user writes by hand (issue 29).

Under a work folder (``--work``, default a temporary one): N generated 32×32 PNGs (``--images``,
default 200; the issue's figure is for 1000: pass ``--images 1000`` on a machine with cores to
spare), labels, and an 8-transform × 4-strength TOML policy, audited against the bundled digit
model with its train pipeline. ``handwritten.py`` is the obvious loop: decode each file, apply
each transform at each strength, and ask the model image by image (``model(x[None])``), then
count accuracy and consistency. Both run as whole processes, alternating who goes first,
``--rounds`` times (default 3); printed: the median seconds of each and the median ratio.

    python benchmarks/augment.py [--images 200] [--rounds 3] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TRANSFORMS = ["rotate", "crop-scale", "translate", "brightness", "contrast", "blur", "noise", "cutout"]

HANDWRITTEN = """
import csv, sys, numpy as np, keras
sys.path.insert(0, {root!r})
from skewcheck.augment.builtin import BUILTINS
from skewcheck.example.pipelines import train_preprocess
folder = {folder!r}
model = keras.saving.load_model({model!r})
rows = list(csv.DictReader(open(folder + "/labels.csv")))
images = [train_preprocess(open(folder + "/" + r["file"], "rb").read()) for r in rows]
labels = [int(r["label"]) for r in rows]
clean = [int(np.argmax(model(x[None], training=False)[0])) for x in images]
for name in {transforms!r}:
    lo, hi = BUILTINS[name].default
    for strength in np.linspace(0, hi, 5)[1:]:
        rng = np.random.default_rng(0)
        preds = [int(np.argmax(model(BUILTINS[name].apply(x, strength, rng)[None], training=False)[0])) for x in images]
        acc = np.mean([p == y for p, y in zip(preds, labels)])
        same = np.mean([p == c for p, c in zip(preds, clean)])
        print(name, strength, acc, same)
"""


def prepare(work: Path, count: int) -> None:
    from PIL import Image

    folder = work / "images"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(29)
    rows = ["file,label"]
    for i in range(count):
        pixels = (rng.random((32, 32, 3)) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:04d}.png")
        rows.append(f"{i:04d}.png,{i % 10}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    spec = "".join(f'[[transform]]\nname = "{t}"\nsteps = 4\n\n' for t in TRANSFORMS)
    (work / "policy.toml").write_text(spec)
    model = ROOT / "skewcheck" / "example" / "model.keras"
    (work / "handwritten.py").write_text(
        HANDWRITTEN.format(root=str(ROOT), folder=str(folder), model=str(model), transforms=TRANSFORMS)
    )


def commands(work: Path) -> dict[str, list[str]]:
    exe = Path(sys.executable).with_name("skewcheck")
    skewcheck = [str(exe)] if exe.exists() else [sys.executable, "-m", "skewcheck.cli"]
    return {
        "handwritten": [sys.executable, str(work / "handwritten.py")],
        "skewcheck": [
            *skewcheck, "augment", "--quiet", "--fail-on", "never",
            "--model", str(ROOT / "skewcheck" / "example" / "model.keras"),
            "--train", "skewcheck.example.pipelines:train_preprocess",
            "--augment", str(work / "policy.toml"),
            "--images", str(work / "images"), "--labels", str(work / "images" / "labels.csv"),
            "--report", str(work / "r.json"),
        ],
    }  # fmt: skip


def timed(cmd: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="skewcheck-augment-bench-"))
    prepare(work, args.images)
    cmds = commands(work)
    seconds: dict[str, list[float]] = {"handwritten": [], "skewcheck": []}
    for r in range(args.rounds):
        for name in ("handwritten", "skewcheck") if r % 2 == 0 else ("skewcheck", "handwritten"):
            seconds[name].append(timed(cmds[name]))
            print(f"round {r + 1}: {name} {seconds[name][-1]:.1f} s", flush=True)
    ratios = [h / s for h, s in zip(seconds["handwritten"], seconds["skewcheck"], strict=True)]
    print(f"\n{args.images} images, {len(TRANSFORMS)} transforms × 4 strengths, {args.rounds} rounds (medians)")
    print("| handwritten loop | skewcheck augment | speed-up |")
    print("|---|---|---|")
    print(
        f"| {statistics.median(seconds['handwritten']):.1f} s | {statistics.median(seconds['skewcheck']):.1f} s "
        f"| {statistics.median(ratios):.2f}x |"
    )


if __name__ == "__main__":
    main()
