"""Colour conversions between 3-channel tensors (issue 17): gray replicated to three channels
against true colour, and a YCbCr / YUV round trip on one side, named by the color-conversion
detector with fitted evidence and a repair that removes the difference."""

from __future__ import annotations

import pytest

import skewcheck
from skewcheck.probes import write_probes

P = "tests/skew_pairs.py:"
pytestmark = pytest.mark.usefixtures("run_from_repo")


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    root = tmp_path_factory.mktemp("colour3")
    write_probes(root, kinds=["clean-jpeg-q95", "clean-png", "sentinel-channel-order"])
    return root


def test_gray_replicated_to_three_channels_against_colour(probes):
    report = skewcheck.compare(train=P + "reference", serve=P + "serve_gray_replicated", images=probes)
    assert [f.kind for f in report.findings] == ["color-conversion"], [(f.kind, f.evidence) for f in report.findings]
    top = report.findings[0]
    assert (top.evidence["cause"], top.evidence["train"]) == ("replicated gray", "colour")
    assert top.evidence["serve"] == "gray replicated to 3 channels (bt601)"
    weights = top.evidence["serve_weights"]
    weights = weights["median"] if isinstance(weights, dict) else weights
    assert weights == pytest.approx([0.299, 0.587, 0.114], abs=0.01)
    assert top.impact["diff_explained"] > 0.95, top.impact


def test_gray_replicated_on_train_is_named_on_train(probes):
    report = skewcheck.compare(train=P + "serve_gray_replicated", serve=P + "reference", images=probes)
    top = report.findings[0]
    assert (top.kind, top.evidence["train"], top.evidence["serve"]) == (
        "color-conversion",
        "gray replicated to 3 channels (bt601)",
        "colour",
    )
    assert top.impact["diff_explained"] > 0.95, top.impact


def test_cv2_yuv_round_trip_is_named_and_repaired(probes):
    report = skewcheck.compare(train=P + "reference", serve=P + "serve_cv2_yuv_round_trip", images=probes)
    assert [f.kind for f in report.findings] == ["color-conversion"], [(f.kind, f.evidence) for f in report.findings]
    top = report.findings[0]
    assert (top.evidence["cause"], top.evidence["train"], top.evidence["serve"]) == (
        "round trip",
        "none",
        "cv2 RGB→YUV→RGB",
    )
    assert top.images == report.summary["compared"]
    assert top.impact["diff_explained"] > 0.95, top.impact


def test_pil_ycbcr_round_trip_at_decode(probes):
    report = skewcheck.compare(train=P + "reference", serve=P + "serve_pil_ycbcr_round_trip", images=probes)
    top = report.findings[0]
    assert (top.kind, top.evidence["serve"]) == ("color-conversion", "PIL YCbCr→RGB (at decode)"), [
        (f.kind, f.evidence) for f in report.findings
    ]
    assert top.impact["diff_explained"] > 0.9, top.impact
