"""skewcheck compare against the script a user writes by hand (issue 11).

Builds, under a work folder (``--work``, default a temporary one):

* N distinct JPEGs (``--images``, default 1000): seeded 256-640 px random crops of
  scikit-image's bundled photos, quality 75-95;
* a small 64x64 Keras classifier (seeded weights; what it predicts does not matter, only that
  both sides run through it);
* ``pipelines.py``: the PIL train pipeline (decode, RGB, resize 64x64 bilinear, /255 float32) and
  an "OpenCV service" (cv2.imdecode BGR, cv2.resize INTER_LINEAR, /255): a skew on every image;
* ``handwritten.py``: the obvious single-process script: both pipelines per image, one batched
  ``model.predict`` per side per chunk of 32, top-1 agreement, max |diff|.

Two cases: (a) identical pipelines (PIL on both sides), (b) PIL train vs the OpenCV service. For
each case, the script and ``skewcheck compare --model M --train ... --serve ... --images DIR
--report r.json`` run as whole processes, alternating, ``--rounds`` times (default 3); the table
gives the median seconds of each and the median ratio of images/s (skewcheck / script) over the
rounds. Timings on a shared machine are noisy: quote medians.

    python benchmarks/vs_handwritten.py [--images 1000] [--rounds 3] [--cases identical,opencv] [--work DIR] [--keep]
    python benchmarks/vs_handwritten.py --images 100 --rounds 1      # smoke check
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
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEED = 11
SIZE = 64
CHUNK = 32
PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "cat",
    "hubble_deep_field",
    "immunohistochemistry",
    "motorcycle_left",
    "retina",
    "colorwheel",
    "camera",
    "moon",
    "page",
    "text",
    "coins",
)

PIPELINES = '''"""The two serving cases of benchmarks/vs_handwritten.py."""
import io

import cv2
import numpy as np
from PIL import Image

SIZE = 64


def pil_train(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
        return np.asarray(im, dtype=np.float32) / 255


def pil_serve(data: bytes) -> np.ndarray:  # identical to training: no skew
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
        return np.asarray(im, dtype=np.float32) / 255


def opencv_serve(data: bytes) -> np.ndarray:  # the OpenCV service: BGR, its own resize
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return cv2.resize(bgr, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
'''

HANDWRITTEN = '''"""What a user writes by hand: both pipelines per image, batched predict, agreement, max |diff|."""
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipelines  # noqa: E402

model_path, images, serve_name, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
import keras  # noqa: E402

model = keras.models.load_model(model_path)
train_fn, serve_fn = pipelines.pil_train, getattr(pipelines, serve_name)
files = sorted(p for p in images.rglob("*") if p.is_file())
agree = total = 0
max_diff = 0.0
for start in range(0, len(files), CHUNK):
    chunk = files[start:start + CHUNK]
    train, serve = [], []
    for path in chunk:
        data = path.read_bytes()
        train.append(train_fn(data))
        serve.append(serve_fn(data))
    t, s = np.stack(train), np.stack(serve)
    max_diff = max(max_diff, float(np.abs(t - s).max()))
    pt = model.predict(t, batch_size=CHUNK, verbose=0)
    ps = model.predict(s, batch_size=CHUNK, verbose=0)
    agree += int((pt.argmax(-1) == ps.argmax(-1)).sum())
    total += len(chunk)
result = {"images": total, "top1_agreement": agree / total, "max_abs_diff": max_diff}
Path(out).write_text(json.dumps(result))
print(result)
'''.replace("CHUNK", str(CHUNK))

CASES = {"identical": "pil_serve", "opencv": "opencv_serve"}


def make_images(folder: Path, count: int) -> None:
    """``count`` distinct JPEGs: random crops (256-640 px a side) of the bundled photos."""
    import skimage.data
    from PIL import Image

    photos = []
    for name in PHOTOS:
        try:
            img = np.asarray(getattr(skimage.data, name)())
        except Exception:  # noqa: BLE001, S112 (a photo a given scikit-image does not bundle)
            continue
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        img = img[..., :3].astype(np.uint8)
        if min(img.shape[:2]) >= 128:
            photos.append(img)
    rng = np.random.default_rng(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        photo = photos[i % len(photos)]
        ph, pw = photo.shape[:2]
        h, w = (int(rng.integers(256, 641)) for _ in range(2))
        ch, cw = min(h, ph), min(w, pw)  # a crop no larger than the photo, then scaled to h×w
        y, x = int(rng.integers(0, ph - ch + 1)), int(rng.integers(0, pw - cw + 1))
        crop = Image.fromarray(photo[y : y + ch, x : x + cw])
        if crop.size != (w, h):
            crop = crop.resize((w, h), Image.BICUBIC)
        crop.save(folder / f"{i:06d}.jpg", quality=int(rng.integers(75, 96)))


def make_model(path: Path) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(SEED)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3), dtype="float32", name="image"),
            layers.Conv2D(16, 3, strides=2, activation="relu"),
            layers.Conv2D(32, 3, strides=2, activation="relu"),
            layers.Conv2D(64, 3, strides=2, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.save(path)


def prepare(work: Path, count: int) -> None:
    images = work / "images"
    if not (images.is_dir() and len(list(images.iterdir())) == count):
        shutil.rmtree(images, ignore_errors=True)
        make_images(images, count)
    if not (work / "model.keras").exists():
        make_model(work / "model.keras")
    (work / "pipelines.py").write_text(PIPELINES)
    (work / "handwritten.py").write_text(HANDWRITTEN)


def commands(work: Path, case: str, extra: list[str] | None = None) -> dict[str, list[str]]:
    serve = CASES[case]
    return {
        "script": [
            sys.executable,
            str(work / "handwritten.py"),
            str(work / "model.keras"),
            str(work / "images"),
            serve,
            str(work / f"script-{case}.json"),
        ],
        "skewcheck": [
            sys.executable,
            "-m",
            "skewcheck",
            "compare",
            "--model",
            str(work / "model.keras"),
            "--train",
            f"{work / 'pipelines.py'}:pil_train",
            "--serve",
            f"{work / 'pipelines.py'}:{serve}",
            "--images",
            str(work / "images"),
            "--report",
            str(work / f"skewcheck-{case}.json"),
            "--quiet",
            "--fail-on",
            "never",
            *(extra or []),
        ],
    }


def timed(cmd: list[str]) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )  # this checkout's skewcheck
    seconds = time.perf_counter() - start
    if proc.returncode != 0:  # --fail-on never: skewcheck exits 0 whatever it finds
        sys.exit(f"{cmd[1]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None, help="reuse this folder (images, model) across runs")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated: identical,opencv")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    ap.add_argument(
        "--workers", default=None, help="time skewcheck with --workers this (e.g. 2); default: its own default"
    )
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="skewcheck-vs-script-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        prepare(work, args.images)
        cases = [c for c in args.cases.split(",") if c]
        times: dict[tuple[str, str], list[float]] = {(c, who): [] for c in cases for who in ("script", "skewcheck")}
        for r in range(args.rounds):
            for case in cases:
                order = ("script", "skewcheck") if (r % 2 == 0) else ("skewcheck", "script")  # alternate who goes first
                for who in order:
                    extra = ["--workers", args.workers] if args.workers is not None else []
                    seconds = timed(commands(work, case, extra)[who])
                    times[(case, who)].append(seconds)
                    print(f"round {r + 1} {case:9} {who:9} {seconds:7.2f} s", file=sys.stderr, flush=True)
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        print(
            f"\n{args.images} images, {args.rounds} round(s), {cpus} CPUs usable, skewcheck --workers "
            f"{args.workers if args.workers is not None else '(default)'}\n"
        )
        print("| serving pipeline | hand-written script | skewcheck compare | skewcheck throughput / script |")
        print("|---|---|---|---|")
        for case in cases:
            script, skew = times[(case, "script")], times[(case, "skewcheck")]
            ratio = statistics.median(
                a / b for a, b in zip(script, skew, strict=True)
            )  # images/s ratio = script s / skewcheck s
            name = {"identical": "identical (no skew)", "opencv": "OpenCV service (a skew on every image)"}[case]
            print(f"| {name} | {statistics.median(script):.1f} s | {statistics.median(skew):.1f} s | {ratio:.2f}x |")
        for case in cases:
            report = json.loads((work / f"skewcheck-{case}.json").read_text())
            script_out = json.loads((work / f"script-{case}.json").read_text())
            kinds = [f"{f['kind']}({f['images']})" for f in report["findings"]]
            print(
                f"\n{case}: script agreement {script_out['top1_agreement']:.3f}, max|diff| "
                f"{script_out['max_abs_diff']:.3g}; skewcheck agreement {report['summary']['top1_agreement']}, "
                f"findings {', '.join(kinds) or 'none'}"
            )
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif args.work is None:
            print(f"work folder kept: {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
