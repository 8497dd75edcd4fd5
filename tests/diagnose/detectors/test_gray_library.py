"""Which library converted to gray (issue 17 leftover): Pillow ``convert("L")``, OpenCV
``cvtColor(COLOR_RGB2GRAY)`` on uint8 and ``tf.image.rgb_to_grayscale`` share the BT.601 weights
and differ by their rounding, about one gray level. A pair that differs only by that is named by
library (``cause: gray library``) with the evidence fitted on the file, repaired by re-converting
with train's library, never a spurious resize / jpeg-decoder / prediction, and graded low.

Pipelines are in tests/gray_pipelines.py, each written with the real library call.
"""

from __future__ import annotations

import numpy as np
import pytest

import skewcheck
from skewcheck.diagnose.detectors import gray_library
from skewcheck.findings import Severity
from skewcheck.probes import write_probes

P = "tests/gray_pipelines.py:"
PROBE_KINDS = ["clean-jpeg-q95", "clean-png", "exif-orientation-6", "sentinel-channel-order", "sentinel-resize"]
NOT_THIS = {"resize", "jpeg-decoder", "prediction"}

pytestmark = pytest.mark.usefixtures("run_from_repo")


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    root = tmp_path_factory.mktemp("gray_library_probes")
    write_probes(root, kinds=PROBE_KINDS)
    return root


@pytest.fixture(scope="module")
def random_rgb():
    return np.random.default_rng(17).integers(0, 256, (256, 256, 3), dtype=np.uint8)


def test_the_converters_are_each_librarys_own_arithmetic(random_rgb):
    """Pillow and OpenCV are called; the TensorFlow one is NumPy float32 and must equal tf's op."""
    import cv2
    import tensorflow as tf
    from PIL import Image

    rgb = random_rgb
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    documented = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(
        np.uint8
    )  # Pillow's ITU-R 601-2 fixed point
    assert np.array_equal(gray_library.LIBRARIES["pillow"](rgb), documented)
    assert np.array_equal(gray_library.LIBRARIES["pillow"](rgb), np.asarray(Image.fromarray(rgb).convert("L")))
    assert np.array_equal(gray_library.LIBRARIES["opencv"](rgb), cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    real_tf = tf.image.rgb_to_grayscale(tf.constant(rgb)).numpy()[..., 0]
    assert np.array_equal(gray_library.LIBRARIES["tf"](rgb), real_tf)
    # they differ by their rounding, by one gray level at most
    pil, cv, tfg = (gray_library.LIBRARIES[n](rgb).astype(int) for n in ("pillow", "opencv", "tf"))
    assert np.abs(pil - cv).max() == 1 and 0 < np.mean(pil != cv) < 0.01
    assert np.abs(pil - tfg).max() == 1 and 0.15 < np.mean(pil != tfg) < 0.35


LIBRARY_PAIRS = [
    # (train, serve, train's library, serve's, detector's severity without a model)
    ("gray_reference", "gray_serve_cv2", "pillow", "opencv", Severity.INFO),
    ("gray_reference", "gray_serve_tf", "pillow", "tf", Severity.MINOR),
    ("gray_train_cv2", "gray_serve_tf", "opencv", "tf", Severity.MINOR),
    ("gray_serve_tf", "gray_reference", "tf", "pillow", Severity.MINOR),
]


@pytest.mark.parametrize(
    ("train", "serve", "tl", "sl", "severity"), LIBRARY_PAIRS, ids=[f"{r[0]}-{r[1]}" for r in LIBRARY_PAIRS]
)
def test_library_named_with_fitted_evidence_and_a_working_repair(probes, train, serve, tl, sl, severity):
    report = skewcheck.compare(train=P + train, serve=P + serve, images=probes)
    kinds = [(f.kind, f.severity.label, f.images, f.evidence) for f in report.findings]
    assert len(report.findings) == 1 and not NOT_THIS & {f.kind for f in report.findings}, kinds
    top = report.findings[0]
    ev = top.evidence
    assert top.kind == "color-conversion" and ev["cause"] == "gray library" and ev["weights"] == "bt601", ev
    assert (ev["train"], ev["serve"]) == (tl, sl), ev
    assert "train_candidates" not in ev and "serve_candidates" not in ev, ev
    # both tensors are reproduced exactly by their library's rendering of the file
    assert ev["train_render"] == ev["serve_render"] == "gray → pil.bilinear", ev
    assert ev["train_exact"] == ev["serve_exact"] == 1.0, ev
    disagree = ev["libraries_disagree"]
    values = disagree if isinstance(disagree, list) else [disagree["min"], disagree["max"]]
    if "opencv" in (tl, sl) and "pillow" in (tl, sl):
        assert 0 < min(values) and max(values) < 0.01, disagree  # a fraction of a percent of pixels
    else:
        assert 0.1 < min(values) and max(values) < 0.4, disagree  # about a quarter
    assert gray_library.WHERE[tl] in top.explanation and gray_library.WHERE[sl] in top.explanation, top.explanation
    assert top.side == "unknown" and top.severity == severity and report.exit_code == 0
    # the repair is measured: re-converting serve with train's library removes the whole difference
    assert top.impact is not None and top.impact["diff_explained"] >= 0.99, top.impact
    assert report.summary["after_all_fixes"]["diff_explained"] >= 0.99, report.summary["after_all_fixes"]


def test_images_the_libraries_agree_on_report_nothing(probes):
    """Pillow and OpenCV give the same tensor on most images: only those they differ on are counted."""
    report = skewcheck.compare(train=P + "gray_reference", serve=P + "gray_serve_cv2", images=probes)
    top = report.findings[0]
    differing = [r for r in report.images if (r.get("metrics", {}).get("tensor") or {}).get("max_abs_diff", 0) > 0]
    assert 0 < top.images == len(differing) < report.summary["compared"], (top.images, len(differing))
    assert top.worst["mean_abs_255"] < 0.1, top.worst


def test_same_library_other_rounding_order_is_not_a_library(probes):
    """Pillow both sides (converted before vs after the resize): no library is named."""
    report = skewcheck.compare(train=P + "gray_reference", serve=P + "gray_equivalent_resize_first", images=probes)
    assert not [f for f in report.findings if f.evidence.get("cause") == "gray library"], [
        (f.kind, f.evidence) for f in report.findings
    ]
