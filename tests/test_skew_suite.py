"""The labelled suite: realistic pipeline pairs → expected top finding; equivalent pairs → pass.

Pairs are in tests/skew_pairs.py, written as users write them. The images are a probe set built
by the public API (a subset of the built-in catalogue, to stay fast).
"""

from __future__ import annotations

import pytest

import skewcheck
from skewcheck.findings import Severity
from skewcheck.probes import write_probes

P = "tests/skew_pairs.py:"
KINDS = [
    "clean-jpeg-q95", "clean-png", "truncated-jpeg", "text-as-jpg", "exif-orientation-3",
    "exif-orientation-6", "icc-adobe-rgb", "rgba", "sentinel-channel-order", "sentinel-resize",
]  # fmt: skip

SKEWED = [
    # (train, serve, model, expected top kind, side the finding blames)
    ("reference", "serve_raw_uint8", "none", "scale", "serve"),
    ("reference", "serve_opencv_bgr", "none", "channel-order", "serve"),
    ("reference", "serve_torch_normalize", "none", "normalization", "serve"),
    ("reference", "serve_float64", "none", "dtype", "serve"),
    ("reference", "serve_chw", "none", "layout", "serve"),
    ("reference", "serve_other_size", "none", "shape", "serve"),
    ("reference", "serve_no_exif", "none", "orientation", "serve"),
    ("reference", "serve_no_icc", "none", "color-profile", "serve"),
    ("reference", "serve_alpha_dropped", "none", "alpha", "serve"),
    ("reference", "serve_opencv_resize", "none", "resize", "serve"),
    ("reference", "serve_center_crop", "none", "crop", "serve"),
    ("reference", "serve_random_flip", "none", "nondeterminism", "serve"),
    ("reference", "serve_mode_check", "none", "pipeline-error", "serve"),
    ("train_strict_decode", "serve_lenient_decode", "none", "decode-tolerance", "serve"),
    ("train_strict_decode", "serve_tf_fast_idct", "none", "jpeg-decoder", "serve"),
    ("reference", "serve_watermark", "fixtures/models/tiny_callable.py:predict", "prediction", "serve"),
]
EQUIVALENT = [
    ("reference", "reference"),
    ("reference", "equivalent_numpy_division"),
    ("train_strict_decode", "train_strict_decode"),
]


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    root = tmp_path_factory.mktemp("probes")
    write_probes(root, kinds=KINDS)
    return root


pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


@pytest.mark.parametrize(("train", "serve", "model", "kind", "side"), SKEWED, ids=[s[1] for s in SKEWED])
def test_skewed_pair_top_finding(probes, train, serve, model, kind, side):
    report = skewcheck.compare(model=model, train=P + train, serve=P + serve, images=probes)
    top = report.findings[0]
    assert (top.kind, top.side) == (kind, side), [(f.kind, f.side, f.images) for f in report.findings]
    assert top.explanation and top.fix
    assert report.exit_code == (0 if top.severity < Severity.MAJOR else 1)


@pytest.mark.parametrize(("train", "serve"), EQUIVALENT, ids=[f"{a}-{b}" for a, b in EQUIVALENT])
def test_equivalent_pair_passes(probes, train, serve):
    report = skewcheck.compare(train=P + train, serve=P + serve, images=probes)
    assert report.exit_code == 0
    assert [f.kind for f in report.findings if f.severity >= Severity.MAJOR] == []


def test_two_causes_are_both_reported_the_bigger_first(probes):
    """BGR and another resize at once: channel-order first, resize after, not a vague prediction."""
    report = skewcheck.compare(train=P + "reference", serve=P + "serve_opencv_bgr_nearest", images=probes)
    kinds = [f.kind for f in report.findings]
    assert kinds[:2] == ["channel-order", "resize"], kinds
    resize = report.findings[1].evidence
    assert resize["train"] == "pil.bilinear" and resize["serve"] == "opencv.INTER_NEAREST"


def test_exif_finding_names_the_deviating_side_and_probe_count(probes):
    report = skewcheck.compare(train=P + "reference", serve=P + "serve_no_exif", images=probes)
    top = report.findings[0].to_dict()
    assert top["kind"] == "orientation" and top["evidence"]["exif_orientation"] == [3, 6]
    assert top["probe_expectation"] == f"serve deviates from the probe's expected decode on {top['images']}/{top['images']} images"
    matrix = report.probe_matrix
    assert matrix["exif-orientation-6"]["deviates"] == {"train": 0, "serve": matrix["exif-orientation-6"]["images"]}
