"""A 1-channel gray model (64×64×1 in [-1, 1], like an emotion classifier): issue 17 item 1.

Pipelines are in tests/gray_pipelines.py, written with the real library calls. Without a model and
with ``fixtures/models/gray64.keras`` (fixtures/build_gray_model.py), a gray conversion with other
channel weights is named ``color-conversion`` first, with the weights each side matches, and not
a spurious ``resize`` or a vague ``prediction``; identical pairs report nothing at or above minor.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import skewcheck
from skewcheck.findings import Severity
from skewcheck.probes import write_probes

REPO = Path(__file__).resolve().parents[3]
GRAY_MODEL = "fixtures/models/gray64.keras"
P = "tests/gray_pipelines.py:"
# no ICC probe: neither gray path manages colour, and the probe expectation would say so (both sides)
PROBE_KINDS = ["clean-jpeg-q95", "clean-png", "exif-orientation-6", "sentinel-channel-order", "sentinel-resize"]

pytestmark = pytest.mark.usefixtures("run_from_repo")

SWAPPED = [
    # (train, serve, train's named weights, serve's)
    ("gray_reference", "gray_serve_pil_as_bgr", "bt601", "bt601-on-bgr"),
    ("gray_train_opencv", "gray_serve_opencv_swapped", "bt601", "bt601-on-bgr"),
    ("gray_reference", "gray_serve_mean", "bt601", "mean"),
    ("gray_reference", "gray_serve_bt709", "bt601", "bt709"),
]


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    root = tmp_path_factory.mktemp("gray_probes")
    write_probes(root, kinds=PROBE_KINDS)
    return root


@pytest.fixture(scope="module")
def gray_runner():
    from skewcheck.models.loader import load_model

    return load_model(str(REPO / GRAY_MODEL), device="cpu")


def _check_conversion(report, train_weights, serve_weights):
    kinds = [(f.kind, f.images) for f in report.findings]
    top = report.findings[0]
    assert top.kind == "color-conversion", kinds
    assert (top.evidence["train"], top.evidence["serve"]) == (train_weights, serve_weights), top.evidence
    assert top.side == "unknown"  # either conversion can be the trained one
    assert "serve_weights" in top.evidence and "train_weights" in top.evidence
    assert top.fix and "gray" in top.fix
    assert [f.kind for f in report.findings].count("color-conversion") == 1, kinds
    assert not {"resize", "prediction"} & {f.kind for f in report.findings}, kinds
    return top


@pytest.mark.parametrize(("train", "serve", "tw", "sw"), SWAPPED, ids=[r[1] for r in SWAPPED])
def test_gray_conversion_named_without_a_model(probes, train, serve, tw, sw):
    report = skewcheck.compare(train=P + train, serve=P + serve, images=probes)
    _check_conversion(report, tw, sw)


def test_swapped_weights_evidence_is_the_fitted_weights(probes):
    report = skewcheck.compare(train=P + "gray_reference", serve=P + "gray_serve_pil_as_bgr", images=probes)
    top = _check_conversion(report, "bt601", "bt601-on-bgr")
    weights = {side: top.evidence[f"{side}_weights"] for side in ("train", "serve")}
    median = {side: (w["median"] if isinstance(w, dict) else w) for side, w in weights.items()}
    assert median["train"] == pytest.approx([0.299, 0.587, 0.114], abs=0.01), weights
    assert median["serve"] == pytest.approx([0.114, 0.587, 0.299], abs=0.01), weights
    assert (top.impact or {}).get("diff_explained", 0) > 0.9, top.impact


def test_identical_gray_pair_reports_nothing(probes):
    report = skewcheck.compare(train=P + "gray_reference", serve=P + "gray_reference", images=probes)
    assert [(f.kind, f.severity.name) for f in report.findings if f.severity >= Severity.MINOR] == []


@pytest.mark.parametrize(("train", "serve", "tw", "sw"), SWAPPED[:3], ids=[r[1] for r in SWAPPED[:3]])
def test_gray_conversion_named_with_the_gray_model(probes, gray_runner, train, serve, tw, sw):
    """Through the 64×64×1 model: the conversion first, not "predictions differ, no tensor-level cause"."""
    report = skewcheck.compare(model=gray_runner, train=P + train, serve=P + serve, images=probes)
    assert report.summary["predicted"] > 0 and report.summary["max_abs_dp"] > 0.05, report.summary
    top = _check_conversion(report, tw, sw)
    assert top.severity >= Severity.MAJOR


@pytest.mark.parametrize("train", ["gray_reference", "gray_train_opencv"])
def test_identical_gray_pair_with_the_gray_model_reports_nothing(probes, gray_runner, train):
    report = skewcheck.compare(model=gray_runner, train=P + train, serve=P + train, images=probes)
    assert report.exit_code == 0
    assert [(f.kind, f.severity.name) for f in report.findings if f.severity >= Severity.MINOR] == []
    assert report.summary["flips"] == 0
