"""Issue 17, situation 4: a dynamic-size dense model whose two sides use another resize policy,
so train and serve give dense maps of different spatial sizes. The maps are compared after
resizing the serve map to train's size (bilinear): mean |Δ|, pixels crossing the threshold and
IoU are reported per image and for the run, the entry says how they were compared, the headline
says how much the output moved, and ``shape`` stays the one finding, with the fitted policy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import skewcheck
from skewcheck.report.common import headline
from tests import dynamic_pipelines as dyn
from tests.conftest import photo_like, write_png

REPO = Path(__file__).resolve().parents[2]
DYN = "fixtures/models/dense_dynamic.keras"
D = "tests/dynamic_pipelines.py:"
SIZES = [(200, 100), (100, 200), (150, 100), (120, 90), (300, 100), (90, 160), (256, 192)]  # (w, h), as the suite
POLICY = {
    "train": "short side to 96, aspect kept, rounded to a multiple of 32",
    "serve": "long side to 96, aspect kept, rounded to a multiple of 32",
}

pytestmark = pytest.mark.usefixtures("run_from_repo")


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("dense_resampled")
    for i, (w, h) in enumerate(SIZES):
        write_png(root / f"im{i}.png", np.asarray(Image.fromarray(photo_like(i, 32)).resize((w, h), Image.BICUBIC)))
    return root


@pytest.fixture(scope="module")
def runner():
    from skewcheck.models.loader import load_model

    return load_model(str(REPO / DYN), device="cpu")


@pytest.fixture(scope="module")
def policy_report(runner, varied):
    return skewcheck.compare(model=runner, train=D + "dyn_short_side", serve=D + "dyn_long_side", images=varied)


def _by_hand(runner, path: Path, threshold: float = 0.5) -> dict[str, float]:
    """The comparison written out independently: both maps from the model, serve's resized to
    train's size with tf.image.resize (bilinear, half-pixel centres, no antialias)."""
    import tensorflow as tf

    t = runner.predict(dyn.dyn_short_side(str(path))[None])[0][0]
    s = runner.predict(dyn.dyn_long_side(str(path))[None])[0][0]
    up = tf.image.resize(s[None].astype(np.float64), t.shape[:2], method="bilinear", antialias=False).numpy()[0]
    bt, bs = t > threshold, up > threshold
    union = int((bt | bs).sum())
    return {
        "mean_abs_diff": float(np.abs(t - up).mean()),
        "pixels_crossing": float(np.mean(bt != bs)),
        "iou": float((bt & bs).sum()) / union if union else 1.0,
        "shape": t.shape,
    }


def test_maps_of_other_sizes_are_compared_after_resizing_serve(policy_report, runner, varied):
    report = policy_report
    assert report.summary["compared"] == len(SIZES)
    [entry] = report.summary["outputs"]
    assert entry["kind"] == "dense" and entry["images"] == len(SIZES), entry
    assert entry["resampled"]["images"] == len(SIZES) and entry["resampled"]["method"] == "bilinear", entry
    assert entry["resampled"]["how"].startswith("serve map resized to train's H×W on each image ("), entry
    assert entry["resampled"]["how"].endswith(f"bilinear, on {len(SIZES)} of {len(SIZES)} images"), entry
    checked = []
    for record in report.images:
        [out] = record["metrics"]["outputs"]
        hand = _by_hand(runner, varied / record["path"])
        h, w = hand["shape"][:2]
        assert out["shape"]["train"][:2] != out["shape"]["serve"][:2], out["shape"]
        assert out["resampled"] == f"serve map resized to train's {h}×{w} (H×W), bilinear", out
        assert out["mean_abs_diff"] == pytest.approx(hand["mean_abs_diff"], abs=2e-4), (out, hand)
        assert out["pixels_crossing"] == pytest.approx(hand["pixels_crossing"], abs=2e-3), (out, hand)
        assert out["iou"] == pytest.approx(hand["iou"], abs=5e-3), (out, hand)
        checked.append(out)
    # the run's numbers are the images' numbers pooled: the map moved, by a little
    assert entry["mean_abs_diff"] == pytest.approx(np.mean([o["mean_abs_diff"] for o in checked]), abs=1e-6)
    assert entry["min_iou"] == pytest.approx(min(o["iou"] for o in checked), abs=1e-6)
    assert 0 < entry["mean_abs_diff"] < 0.05 and 0 < entry["value"] < 0.05 and 0.9 < entry["iou"] < 1.0, entry
    assert entry["changed"] == sum(o["changed"] for o in checked) == report.summary["answer_changed"]["changed"]
    assert report.summary["answer_changed"]["images"] == len(SIZES)


def test_the_headline_says_how_much_the_map_moved(policy_report):
    data = policy_report.to_dict()
    entry = data["summary"]["outputs"][0]
    text = headline(data)
    assert f"dense output 0: {entry['value']:.1%} of pixels cross 0.5, IoU {entry['iou']:.3f}" in text, text
    assert f"({entry['changed']} of {len(SIZES)} images changed)" in text, text


def test_shape_stays_the_one_finding_with_the_fitted_policy(policy_report):
    report = policy_report
    kinds = [(f.kind, f.severity.label, f.images, f.evidence) for f in report.findings]
    assert [f.kind for f in report.findings] == ["shape"], kinds
    top = report.findings[0]
    assert top.evidence["policy"] == POLICY, top.evidence
    assert top.images == len(SIZES) and report.exit_code == 1
    # measured now: re-running the model on serve resized to train's size changes no answer
    assert top.impact is not None and top.impact["flips_recovered"] == report.summary["answer_changed"]["changed"], (
        top.impact
    )


def test_maps_of_the_same_size_are_not_resampled(runner, varied):
    report = skewcheck.compare(model=runner, train=D + "dyn_short_side", serve=D + "dyn_short_side_bgr", images=varied)
    [entry] = report.summary["outputs"]
    assert "resampled" not in entry and entry["images"] == len(SIZES)
    assert all("resampled" not in r["metrics"]["outputs"][0] for r in report.images)


def test_chw_maps_of_other_sizes_are_resized_on_their_spatial_axes(varied):
    """A callable model with N×1×H×W maps: the channel axis stays, H and W follow train's."""
    report = skewcheck.compare(
        model=D + "chw_edge_map", train=D + "dyn_short_side", serve=D + "dyn_long_side", images=varied, task="dense"
    )
    [entry] = report.summary["outputs"]
    assert entry["kind"] == "dense" and entry["resampled"]["images"] == len(SIZES), entry
    for record in report.images:
        [out] = record["metrics"]["outputs"]
        c, h, w = out["shape"]["train"]
        assert c == 1 and out["resampled"] == f"serve map resized to train's {h}×{w} (H×W), bilinear", out
        assert 0 <= out["pixels_crossing"] < 0.2 and out["iou"] > 0.5, out
    assert [f.kind for f in report.findings] == ["shape"], [(f.kind, f.evidence) for f in report.findings]


def test_the_headline_says_the_maps_were_resized(policy_report):
    from skewcheck.report.common import headline

    [entry] = policy_report.summary["outputs"]
    line = headline(policy_report.to_dict())
    assert f"dense output 0: {100 * entry['value']:.1f}% of pixels cross" in line
    assert entry["resampled"]["how"] in line  # the reader learns the maps were not the same size
