"""skewcheck augment against the script a user writes by hand (issue 29), and its memory.

Under a work folder (``--work``, default a temporary one): N generated 32×32 PNGs (``--images``,
default 300; the issue's figure is for 1000: pass ``--images 1000`` on a machine with cores to
spare), labels, and an 8-transform × 4-strength TOML policy, audited against the bundled digit
model with its train pipeline.

``handwritten.py`` is the fair script: decode each file once with the train pipeline, apply each
transform at each strength (the same built-in functions, one seeded generator per image), ask the
model for each (transform, strength) in one batched ``model.predict``, and count accuracy and
consistency. It computes less than skewcheck (no per-class tallies, confusion pairs, intervals,
findings or report), so it is the floor a tool can hope to match, not a straw man.

Timing: whole processes, alternating who goes first, ``--rounds`` times (default 3); printed: the
median seconds of each and the median ratio. ``--workers N`` adds ``skewcheck augment --workers N``
as a third contender (the default run is ``--workers auto``: in-process below 500 images).

Memory: ``--rss 200,1000`` runs ``skewcheck augment --workers 0`` and the hand-written script
once at each image count and prints each process's peak resident set (``wait4``'s ``ru_maxrss``).
``--rss-pythonpath DIR`` measures another checkout's skewcheck too (e.g. ``git archive`` of an
older commit unpacked in DIR).

    python benchmarks/augment.py [--images 300] [--rounds 3] [--workers 1] [--work DIR]
    python benchmarks/augment.py --rss 200,1000 [--rss-pythonpath DIR]
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
STEPS = 4

HANDWRITTEN = """
import csv, sys, numpy as np, keras
sys.path.insert(0, {root!r})
from skewcheck.augment.builtin import BUILTINS
from skewcheck.augment.spec import spread
from skewcheck.example.pipelines import train_preprocess
folder = {folder!r}
model = keras.saving.load_model({model!r})
rows = list(csv.DictReader(open(folder + "/labels.csv")))
images = [train_preprocess(open(folder + "/" + r["file"], "rb").read()) for r in rows]
labels = np.array([int(r["label"]) for r in rows])
clean = model.predict(np.stack(images), verbose=0).argmax(1)
for name in {transforms!r}:
    lo, hi = BUILTINS[name].default
    for step, strength in enumerate(spread(lo, hi, {steps}, BUILTINS[name].lower_is_stronger)):
        batch = np.stack([BUILTINS[name].apply(x, strength, np.random.default_rng([0, step, i])) for i, x in enumerate(images)])
        preds = model.predict(batch, verbose=0).argmax(1)
        print(name, strength, (preds == labels).mean(), (preds == clean).mean())
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
    spec = "".join(f'[[transform]]\nname = "{t}"\nsteps = {STEPS}\n\n' for t in TRANSFORMS)
    (work / "policy.toml").write_text(spec)
    model = ROOT / "skewcheck" / "example" / "model.keras"
    (work / "handwritten.py").write_text(
        HANDWRITTEN.format(root=str(ROOT), folder=str(folder), model=str(model), transforms=TRANSFORMS, steps=STEPS)
    )


def skewcheck_cmd(work: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "skewcheck.cli", "augment", "--quiet", "--fail-on", "never",
        "--model", str(ROOT / "skewcheck" / "example" / "model.keras"),
        "--train", "skewcheck.example.pipelines:train_preprocess",
        "--augment", str(work / "policy.toml"),
        "--images", str(work / "images"), "--labels", str(work / "images" / "labels.csv"),
        "--report", str(work / "r.json"), *extra,
    ]  # fmt: skip


def run(cmd: list[str], pythonpath: Path = ROOT) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of one whole process."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{cmd[:4]} exited {proc.returncode}: {err.read().decode()[-2000:]}")
    return time.perf_counter() - start, usage.ru_maxrss


def timing(args: argparse.Namespace) -> None:
    work = args.work or Path(tempfile.mkdtemp(prefix="skewcheck-augment-bench-"))
    prepare(work, args.images)
    cmds = {"handwritten": [sys.executable, str(work / "handwritten.py")], "skewcheck": skewcheck_cmd(work)}
    if args.workers is not None:
        cmds[f"skewcheck --workers {args.workers}"] = skewcheck_cmd(work, "--workers", str(args.workers))
    seconds: dict[str, list[float]] = {name: [] for name in cmds}
    names = list(cmds)
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            seconds[name].append(run(cmds[name])[0])
            print(f"round {r + 1}: {name} {seconds[name][-1]:.1f} s", flush=True)
    print(f"\n{args.images} images, {len(TRANSFORMS)} transforms × {STEPS} strengths, {args.rounds} rounds (medians)")
    print("| contender | median | hand-written / it |")
    print("|---|---|---|")
    for name in names:
        ratios = [h / s for h, s in zip(seconds["handwritten"], seconds[name], strict=True)]
        print(f"| {name} | {statistics.median(seconds[name]):.1f} s | {statistics.median(ratios):.2f}x |")


def memory(args: argparse.Namespace) -> None:
    print("| images | process | peak RSS |")
    print("|---|---|---|")
    for count in (int(n) for n in args.rss.split(",")):
        work = Path(tempfile.mkdtemp(prefix=f"skewcheck-augment-rss-{count}-"))
        prepare(work, count)
        runs = {"skewcheck augment --workers 0": (skewcheck_cmd(work, "--workers", "0"), ROOT)}
        if args.rss_pythonpath is not None:
            old = skewcheck_cmd(work)  # an older checkout may not know --workers
            runs[f"skewcheck augment ({args.rss_pythonpath})"] = (old, args.rss_pythonpath)
        runs["handwritten"] = ([sys.executable, str(work / "handwritten.py")], ROOT)
        for name, (cmd, path) in runs.items():
            seconds, rss = run(cmd, path)
            print(f"| {count} | {name} | {rss / 1024:.0f} MiB ({seconds:.1f} s) |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--rss", help="image counts, e.g. 200,1000: peak memory instead of timing")
    parser.add_argument("--rss-pythonpath", type=Path)
    args = parser.parse_args()
    memory(args) if args.rss else timing(args)


if __name__ == "__main__":
    main()
