"""The skew-pair suite on every kind of image model (issue 17): a 1-channel gray classifier, a CHW
classifier on aspect-kept right-padded crops, a dynamic-size model with a dense output and a
two-output detector, each with its own fixture model and pairs made with the real library calls.

Each skewed pair must report the named cause first, one finding per cause (no second finding of
the same kind, no spurious ``resize`` / ``crop`` / ``prediction`` beside a named cause), with
fitted evidence, a fix and a measured impact; identical pairs report nothing at or above minor.
A table of what the suite shows is printed at the end of the module (``pytest -s``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import skewcheck
from skewcheck.findings import Severity
from skewcheck.probes import write_probes
from tests.conftest import photo_like, write_png
from tests.padded_pipelines import write_wide_crops

REPO = Path(__file__).resolve().parents[2]
M = "fixtures/models/"
GRAY, PAD, DYN, DET = M + "gray64.keras", M + "pad_chw.keras", M + "dense_dynamic.keras", M + "detector.keras"
POST = M + "detector_postprocess.py:top3"
G, PP, D, OUT = (
    "tests/gray_pipelines.py:",
    "tests/padded_pipelines.py:",
    "tests/dynamic_pipelines.py:",
    "tests/output_pipelines.py:",
)
SPURIOUS = {"resize", "crop", "prediction"}

# (model, images, train, serve, expected first kind, evidence the first finding must carry)
SKEWED = [
    (
        GRAY,
        "probes",
        G + "gray_reference",
        G + "gray_serve_pil_as_bgr",
        "color-conversion",
        {"train": "bt601", "serve": "bt601-on-bgr"},
    ),
    (
        GRAY,
        "probes",
        G + "gray_train_opencv",
        G + "gray_serve_opencv_swapped",
        "color-conversion",
        {"train": "bt601", "serve": "bt601-on-bgr"},
    ),
    (
        GRAY,
        "probes",
        G + "gray_reference",
        G + "gray_serve_mean",
        "color-conversion",
        {"train": "bt601", "serve": "mean"},
    ),
    (
        PAD,
        "padded",
        PP + "ocr_reference",
        PP + "ocr_serve_stretch",
        "padding",
        {
            "cause": "framing",
            "train": "keep-ratio, pad bottom/right (top-left anchored)",
            "serve": "stretch",
            "train_pad_order": "after normalization",
        },
    ),
    (
        PAD,
        "padded",
        PP + "ocr_reference",
        PP + "ocr_serve_pad_before_norm",
        "padding",
        {
            "cause": "pad value",
            "train_pad_order": "after normalization",
            "serve_pad_order": "before normalization",
            "serve_pad": 0.0,
        },
    ),
    (
        PAD,
        "padded",
        PP + "ocr_reference",
        PP + "ocr_serve_centred",
        "padding",
        {"cause": "framing", "serve": "keep-ratio, centred pad"},
    ),
    (
        PAD,
        "padded",
        PP + "ocr_reference",
        PP + "ocr_serve_unit",
        "normalization",
        {"train_preset": "keras.tf", "serve_preset": "unit"},
    ),
    (PAD, "padded", PP + "ocr_reference", PP + "ocr_serve_hwc", "layout", {"move": "HWC-vs-CHW"}),
    (PAD, "padded", PP + "ocr_reference", PP + "ocr_serve_bgr", "channel-order", {"permutation": [2, 1, 0]}),
    (
        DYN,
        "varied",
        D + "dyn_short_side",
        D + "dyn_long_side",
        "shape",
        {
            "policy": {
                "train": "short side to 96, aspect kept, rounded to a multiple of 32",
                "serve": "long side to 96, aspect kept, rounded to a multiple of 32",
            }
        },
    ),
    (DYN, "varied", D + "dyn_short_side", D + "dyn_short_side_bgr", "channel-order", {"permutation": [2, 1, 0]}),
    (DYN, "varied", D + "dyn_short_side", D + "dyn_short_side_raw", "scale", {"k_named": "255"}),
    (DET, "varied", OUT + "train", OUT + "serve_bgr", "channel-order", {"permutation": [2, 1, 0]}),
    (DET, "varied", OUT + "train", OUT + "serve_no_scale", "scale", {"k_named": "255"}),
]
# Pairs that differ only by which library converted to gray (same BT.601 weights, their own
# rounding: about one gray level): named by library, repaired, graded by what the repair buys.
# (model, images, train, serve, evidence the first finding must carry)
LIBRARY = [
    (
        GRAY,
        "probes",
        G + "gray_reference",
        G + "gray_serve_cv2",
        {"cause": "gray library", "train": "pillow", "serve": "opencv"},
    ),
    (
        GRAY,
        "probes",
        G + "gray_reference",
        G + "gray_serve_tf",
        {"cause": "gray library", "train": "pillow", "serve": "tf"},
    ),
    (
        GRAY,
        "probes",
        G + "gray_train_cv2",
        G + "gray_serve_tf",
        {"cause": "gray library", "train": "opencv", "serve": "tf"},
    ),
]
IDENTICAL = [
    (GRAY, "probes", G + "gray_reference", G + "gray_reference"),
    (GRAY, "probes", G + "gray_train_opencv", G + "gray_train_opencv"),
    (PAD, "padded", PP + "ocr_reference", PP + "ocr_reference"),
    (PAD, "padded", PP + "ocr_reference", PP + "ocr_equivalent_np_pad"),
    (DYN, "varied", D + "dyn_short_side", D + "dyn_short_side"),
    (DYN, "varied", D + "dyn_short_side", D + "dyn_short_side_numpy"),
    (DET, "varied", OUT + "train", OUT + "train"),
    (DET, "varied", OUT + "train", OUT + "serve_same"),
]
PROBE_KINDS = ["clean-jpeg-q95", "clean-png", "exif-orientation-6", "sentinel-channel-order", "sentinel-resize"]
SIZES = [(200, 100), (100, 200), (150, 100), (120, 90), (300, 100), (90, 160), (256, 192)]  # (w, h)

pytestmark = pytest.mark.usefixtures("run_from_repo")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    from PIL import Image

    probes = tmp_path_factory.mktemp("suite_models")
    write_probes(probes / "probes", kinds=PROBE_KINDS)
    write_probes(probes / "padded", kinds=PROBE_KINDS)
    write_wide_crops(probes / "padded" / "wide")  # some fill the full width: no padding on them
    for i, (w, h) in enumerate(SIZES):
        write_png(
            probes / "varied" / f"im{i}.png",
            np.asarray(Image.fromarray(photo_like(i, 32)).resize((w, h), Image.BICUBIC)),
        )
    return probes


@pytest.fixture(scope="module")
def runners():
    from skewcheck.models.loader import load_model

    cache: dict[str, object] = {}

    def get(model: str) -> object:
        if model not in cache:
            cache[model] = load_model(str(REPO / model), device="cpu")
        return cache[model]

    return get


@pytest.fixture(scope="module")
def table():
    rows: list[str] = []
    yield rows
    if rows:
        print("\n\nskew-pair suite, new models (issue 17)")
        print(f"{'model':20} {'pair':42} {'flips/changed':>13}  {'first finding':16} findings (severity, images)")
        for row in rows:
            print(row)


def _run(runners, folders, model, images, train, serve):
    kwargs = {"postprocess": POST} if model == DET else {}
    return skewcheck.compare(model=runners(model), train=train, serve=serve, images=folders / images, **kwargs)


def changed(report) -> int:
    """Flipped top-1 for a classifier; for dense / detection outputs, the answers that changed."""
    outputs = report.summary.get("outputs") or []
    if report.summary.get("flips") or not outputs:
        return int(report.summary.get("flips", 0))
    return max(int(o.get("changed", 0)) for o in outputs)


def _row(table, model, train, serve, report) -> None:
    first = report.findings[0].kind if report.findings else "-"
    found = ", ".join(f"{f.kind} {f.severity.label} {f.images}" for f in report.findings) or "none"
    pair = f"{train.rsplit(':', 1)[1]} / {serve.rsplit(':', 1)[1]}"
    table.append(f"{model.rsplit('/', 1)[1]:20} {pair:42} {changed(report):>13}  {first:16} {found}")


@pytest.mark.parametrize(
    ("model", "images", "train", "serve", "kind", "evidence"),
    SKEWED,
    ids=[f"{r[0].rsplit('/', 1)[1]}-{r[3].rsplit(':', 1)[1]}" for r in SKEWED],
)
def test_named_cause_first_one_finding_per_cause(runners, folders, table, model, images, train, serve, kind, evidence):
    report = _run(runners, folders, model, images, train, serve)
    _row(table, model, train, serve, report)
    kinds = [(f.kind, f.side, f.images, f.evidence) for f in report.findings]
    top = report.findings[0]
    assert top.kind == kind, kinds
    assert {k: top.evidence.get(k) for k in evidence} == evidence, top.evidence
    assert len({f.kind for f in report.findings}) == len(report.findings), kinds  # one finding per cause
    assert not SPURIOUS & {f.kind for f in report.findings}, kinds
    assert top.fix and top.explanation
    assert report.exit_code == 1 and top.severity >= Severity.MAJOR
    if top.kind not in ("layout", "shape"):  # the model cannot take the other shape: nothing to re-run
        assert top.impact is not None and top.impact["diff_explained"] >= 0.8, top.impact
        assert top.impact["flips_recovered"] == changed(report), (top.impact, report.summary)


@pytest.mark.parametrize(
    ("model", "images", "train", "serve", "evidence"),
    LIBRARY,
    ids=[f"{r[0].rsplit('/', 1)[1]}-{r[3].rsplit(':', 1)[1]}" for r in LIBRARY],
)
def test_gray_library_named_and_graded_by_its_repair(runners, folders, table, model, images, train, serve, evidence):
    report = _run(runners, folders, model, images, train, serve)
    _row(table, model, train, serve, report)
    kinds = [(f.kind, f.severity.label, f.images, f.evidence) for f in report.findings]
    top = report.findings[0]
    assert top.kind == "color-conversion", kinds
    assert {k: top.evidence.get(k) for k in evidence} == evidence, top.evidence
    assert len(report.findings) == 1 and not (SPURIOUS | {"jpeg-decoder"}) & {f.kind for f in report.findings}, kinds
    assert top.impact is not None and top.impact["diff_explained"] >= 0.99, top.impact
    assert top.impact["flips_recovered"] == changed(report) == 0, (top.impact, report.summary)
    # a gray level on some pixels moves the gray model's probabilities by under 0.01: not major
    assert report.summary["max_abs_dp"] < 0.01, report.summary
    assert top.severity <= Severity.MINOR and report.exit_code == 0, (top.severity, top.impact)


@pytest.mark.parametrize(
    ("model", "images", "train", "serve"),
    IDENTICAL,
    ids=[f"{r[0].rsplit('/', 1)[1]}-{r[3].rsplit(':', 1)[1]}" for r in IDENTICAL],
)
def test_identical_pairs_report_nothing_at_or_above_minor(runners, folders, table, model, images, train, serve):
    report = _run(runners, folders, model, images, train, serve)
    _row(table, model, train, serve, report)
    assert report.exit_code == 0
    assert [(f.kind, f.severity.label) for f in report.findings if f.severity >= Severity.MINOR] == []
    assert changed(report) == 0
