"""Measure the gate's input distance per finding kind over the probe set and the skew suites.

    python scripts/gate_calibration.py          # rewrite docs/gate-calibration.md
    python scripts/gate_calibration.py --check  # exit 1 when the committed page is stale

Every pair of the labelled skew suite (tests/skew_pairs.py, tensor-only, on the whole built-in
probe set) and every row of the gate suite (tests/gate_pipelines.py, on the bundled example's
digits) is audited with ``skewcheck.compare``; each compared image's ``input_distance_db`` is
filed under the one finding kind its record names (``none`` when it has none, ``several kinds``
when it has more than one: a kind's row shows what that cause alone does to an image). The page shows,
per kind, how the distance is distributed and how many images fall under the gross threshold
(``skewcheck.attribution.damage.GROSS_DB``); ``skewcheck.diagnose.catalog`` prints it into
docs/findings.md.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "gate-calibration.md"
SUITE = [  # (train, serve) of tests/skew_pairs.py: one mistake each, and the equivalent ports
    ("reference", "reference"),
    ("reference", "equivalent_numpy_division"),
    ("reference", "serve_raw_uint8"),
    ("reference", "serve_opencv_bgr"),
    ("reference", "serve_torch_normalize"),
    ("reference", "serve_float64"),
    ("reference", "serve_no_exif"),
    ("reference", "serve_no_icc"),
    ("reference", "serve_alpha_dropped"),
    ("reference", "serve_opencv_resize"),
    ("reference", "serve_center_crop"),
    ("reference", "serve_center_crop_75"),
    ("reference", "serve_random_flip_p50"),
    ("reference", "serve_watermark"),
    ("reference", "serve_opencv_bgr_nearest"),
    ("reference", "serve_opencv_service"),
    ("reference", "serve_tf_data"),
    ("reference", "serve_gray_replicated"),
    ("reference", "serve_cv2_yuv_round_trip"),
    ("reference", "serve_pil_ycbcr_round_trip"),
    ("train_strict_decode", "serve_tf_fast_idct"),
]
GATE_ROWS = [  # (train, serve) of tests/gate_pipelines.py on the example digits
    ("train", "serve_integer_divide"),
    ("train", "serve_noise_on_some"),
    ("train", "serve_black_on_some"),
    ("train_normalized", "serve_not_normalized"),
    ("train", "quiet_numpy_division"),
    ("train", "quiet_float32_rounding"),
    ("train", "quiet_opencv_port"),
]


def measure() -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Distances by the image's finding kind, and by pair."""
    import skewcheck
    from skewcheck.example import HERE as EXAMPLE
    from skewcheck.probes import write_probes

    by_kind: dict[str, list[float]] = defaultdict(list)
    by_pair: dict[str, list[float]] = {}
    os.chdir(REPO)
    with tempfile.TemporaryDirectory() as tmp:
        probes = Path(tmp) / "probes"
        write_probes(probes)
        runs = [("tests/skew_pairs.py", t, s, probes) for t, s in SUITE]
        runs += [("tests/gate_pipelines.py", t, s, EXAMPLE / "images") for t, s in GATE_ROWS]
        for module, train, serve, images in runs:
            with skewcheck.compare(train=f"{module}:{train}", serve=f"{module}:{serve}", images=images) as report:
                distances = by_pair.setdefault(f"{Path(module).stem}:{serve}", [])
                for record in report.images:
                    tensor = (record.get("metrics") or {}).get("tensor") or {}
                    distance = tensor.get("input_distance_db")
                    if distance is None:
                        continue
                    distances.append(math.inf if distance is None else float(distance))
                    kinds = record.get("findings") or ["none"]
                    by_kind[kinds[0] if len(kinds) == 1 else "several kinds"].append(float(distance))
    return by_kind, by_pair


def render(by_kind: dict[str, list[float]], by_pair: dict[str, list[float]]) -> str:
    from skewcheck.attribution.damage import GROSS_DB

    def row(name: str, values: list[float]) -> str:
        x = np.array(values)
        gross = int(np.sum(x < GROSS_DB))
        cells = [_db(float(x.min())), _db(_percentile(x, 5)), _db(_percentile(x, 50)), _db(float(x.max()))]
        return f"| {name} | {len(x)} | " + " | ".join(cells) + f" | {gross} ({100 * gross / len(x):.0f} %) |"

    head = f"| images | min | 5th pct | median | max | under {GROSS_DB:.1f} dB (gross) |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    kinds = sorted(by_kind, key=lambda k: (k in ("none", "several kinds"), k))
    lines = ["| the cause the pair was written with (module:serve) " + head, rule]
    lines += [row(pair, values) for pair, values in by_pair.items() if values]
    lines += ["", "| the one finding kind named on the image " + head, rule]
    lines += [row(kind, by_kind[kind]) for kind in kinds]
    return (
        "<!-- generated by scripts/gate_calibration.py: do not edit by hand -->\n"
        "Input distance (dB, higher is closer) of every compared image: the built-in probe set "
        "through the skew suite's pairs (tests/skew_pairs.py, no model; each serve function makes "
        "the one mistake its name says, `reference` and `equivalent_*` none) and the bundled "
        "example's digits through the gate suite's rows (tests/gate_pipelines.py). The first "
        "table is by the cause each pair was written with; the second by what the detectors named "
        "on the image (`none`: nothing, as on most watermark and noise images; `several kinds`: "
        "two or more), so a wrongly named cause shows there (the watermark's images named "
        "`resize` or `color-profile`).\n\n" + "\n".join(lines) + "\n"
    )


def _percentile(x: np.ndarray, q: float) -> float:
    finite = np.where(np.isinf(x) & (x > 0), np.finfo(np.float64).max, x)
    value = float(np.percentile(finite, q, method="lower"))
    return math.inf if value == np.finfo(np.float64).max else value


def _db(x: float) -> str:
    return "∞" if math.isinf(x) and x > 0 else f"{x:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/gate-calibration.md is stale")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    page = render(*measure())
    if args.check:
        stale = not PAGE.exists() or PAGE.read_text() != page
        print("docs/gate-calibration.md is stale" if stale else "docs/gate-calibration.md is current")
        return int(stale)
    PAGE.write_text(page)
    print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
