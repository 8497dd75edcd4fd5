"""Attribution by repair: each finding's impact is measured through the model, and ranks it."""

from __future__ import annotations

import numpy as np
import pytest

import skewcheck
from skewcheck.attribution import repeat_indices
from skewcheck.attribution.grade import RunTotals, grade_and_rank
from skewcheck.attribution.measure import Attributor, Tally
from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.repair import repaired_serve
from skewcheck.example import example_arguments
from skewcheck.findings import Finding, Severity
from skewcheck.pipelines.outcome import Outcome
from tests.conftest import REPO, photo_like

MODELS = REPO / "fixtures" / "models"
REF = "tests/pipelines_for_tests.py:"


@pytest.fixture(scope="module")
def example(example_report):
    return example_report


def test_example_scale_fix_recovers_every_flip_and_the_dtype_fix_none(example):
    flips = example.summary["flips"]
    scale, dtype = example.findings[0], example.findings[1]
    assert (scale.kind, dtype.kind) == ("scale", "dtype")
    assert flips > 0
    assert scale.impact["flips_recovered"] == flips and scale.impact["sampled"] == example.summary["images"]
    assert scale.impact["accuracy_after_fix"] == pytest.approx(example.summary["accuracy"]["train"])
    assert scale.impact["agreement_after_fix"] == 1.0 and scale.impact["diff_explained"] == pytest.approx(1.0)
    assert dtype.impact["flips_recovered"] == 0 and dtype.impact["diff_explained"] == pytest.approx(0.0)
    assert dtype.severity == Severity.MAJOR  # a representation break stays major when it costs nothing


def test_no_flip_is_counted_twice(example):
    assert sum(f.flips for f in example.findings) <= example.summary["flips"]
    assert example.findings[0].flips == example.summary["flips"]  # every flip is the scale's
    assert example.findings[1].flips_on_images == example.summary["flips"]  # …though the dtype sits on them too


def test_after_all_fixes_is_the_residual(example):
    fixed = example.summary["after_all_fixes"]
    assert fixed["agreement"] == 1.0 and fixed["flips_left"] == 0
    assert fixed["accuracy"] == pytest.approx(example.summary["accuracy"]["train"])
    assert fixed["diff_explained"] == pytest.approx(1.0)


def test_report_is_the_same_for_any_chunk_size(example):
    other = skewcheck.compare(**example_arguments(), batch_size=7)
    assert [f.to_dict() for f in other.findings] == [f.to_dict() for f in example.findings]
    assert other.summary["after_all_fixes"] == example.summary["after_all_fixes"]


def _ctx(train: np.ndarray, serve: np.ndarray) -> PairContext:
    return PairContext("x.png", Outcome("ok", train), Outcome("ok", serve), tolerance=(1e-5, 1e-5))


def test_value_repairs_undo_their_cause_alone_and_together():
    t = photo_like(3, 16).astype(np.float32) / 255
    s = (t[..., ::-1] * 255).astype(np.float32)  # BGR and a missing /255
    ctx = _ctx(t, s)
    both = repaired_serve(ctx, ["permutation", "values"])
    assert np.allclose(both, t, atol=1e-5)
    assert np.allclose(repaired_serve(ctx, ["values"]), t[..., ::-1], atol=1e-5)  # channels still swapped
    assert np.allclose(repaired_serve(ctx, ["permutation"]), t * 255, atol=1e-3)  # still ×255


def test_layout_and_orientation_repairs_move_serve_back():
    t = photo_like(4, 12).astype(np.float32)
    chw = np.transpose(t, (2, 0, 1))
    assert np.array_equal(repaired_serve(_ctx(t, chw), ["layout"]), t)
    assert repaired_serve(_ctx(t, chw), ["values"]).shape == chw.shape  # other fixes keep serve's layout
    flipped = np.ascontiguousarray(t[:, ::-1])
    assert np.array_equal(repaired_serve(_ctx(t, flipped), ["orientation"]), t)


def test_integer_serve_divided_by_its_factor_becomes_float():
    t = photo_like(5, 8).astype(np.float32) / 255
    s = np.round(t * 255).astype(np.uint8)
    out = repaired_serve(_ctx(t, s), ["values"])
    assert out.dtype == np.float32 and np.max(np.abs(out - t)) < 1 / 255


def test_without_a_model_attribution_is_by_difference_removed(tmp_path):
    root = tmp_path / "imgs"
    from tests.conftest import write_png

    for i in range(6):
        write_png(root / f"{i}.png", photo_like(20 + i, 16))
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "opencv_bgr_unit", images=root)
    top = report.findings[0]
    assert top.kind == "channel-order"
    assert top.impact["flips_recovered"] is None and top.impact["diff_explained"] > 0.9


def _finding(kind: str, key: str, images: int, severity: Severity = Severity.MAJOR) -> Finding:
    return Finding(kind, severity, "serve", {}, "", "", images=images, key=(kind, "serve", key), repair=("values",))


def test_a_finding_on_few_images_cannot_outrank_one_that_recovers_more():
    wide, narrow = _finding("resize", "a", 160), _finding("channel-order", "b", 1, Severity.CRITICAL)
    attributor = Attributor(200)
    attributor.tallies[wide.key] = Tally(
        images=160,
        flipped_images=20,
        sampled=160,
        sampled_flipped=20,
        recovered=5,
        predicted=160,
        agreeing=140,
        credited=5,
        diffs=160,
        diff_before=10,
        diff_after=5,
    )
    attributor.tallies[narrow.key] = Tally(
        images=1,
        flipped_images=1,
        sampled=1,
        sampled_flipped=1,
        recovered=1,
        predicted=1,
        credited=1,
        diffs=1,
        diff_before=1,
        diff_after=0,
    )
    ranked = grade_and_rank([narrow, wide], attributor, RunTotals(images=200, predicted=200, flips=21))
    assert [f.kind for f in ranked] == ["resize", "channel-order"]
    assert ranked[0].severity == Severity.MAJOR and ranked[0].impact["flips_recovered"] == 5  # 2.5 % of 200
    assert ranked[1].severity == Severity.MINOR  # 1 flip of 200 images: 0.5 %


def test_residue_of_a_stronger_cause_is_folded_into_it():
    strong, residue = _finding("resize", "a", 10), _finding("normalization", "b", 6)
    residue.cooccurs[strong.key] = 6
    attributor = Attributor(10)
    attributor.tallies[strong.key] = Tally(
        sampled=10, diffs=10, diff_before=10, diff_after=1, without_left=10, with_left=1
    )
    attributor.tallies[residue.key] = Tally(
        sampled=6, diffs=6, diff_before=6, diff_after=5.8, without_left=0.62, with_left=0.6
    )
    ranked = grade_and_rank([strong, residue], attributor, RunTotals(images=10, predicted=0, flips=0))
    assert [f.kind for f in ranked] == ["resize"]
    assert ranked[0].absorbed[0]["kind"] == "normalization" and ranked[0].absorbed[0]["images"] == 6


def test_randomness_is_checked_on_a_sample_spread_over_the_run():
    picked = repeat_indices(1000)
    assert len(picked) == 50 and max(picked) > 900 and min(picked) < 100  # 5 % of 1,000, spread
    assert len(repeat_indices(10)) == 10 and len(repeat_indices(100_000)) == 256


def test_summary_states_the_odds_of_missing_randomness(example):
    repeats = example.summary["repeats"]
    assert repeats["images"] == 32
    assert repeats["miss_odds_at_5pct"] == pytest.approx(0.95**32, rel=1e-4)


def test_a_centre_zoom_crop_is_a_crop_not_a_resize(tmp_path, run_from_repo):
    from skewcheck.probes import write_probes

    root = tmp_path / "probes"
    write_probes(root, kinds=["clean-jpeg-q95", "clean-png", "sentinel-channel-order", "sentinel-resize"])
    report = skewcheck.compare(
        train="tests/skew_pairs.py:reference", serve="tests/skew_pairs.py:serve_center_crop_75", images=root
    )
    top = report.findings[0]
    assert top.kind == "crop" and top.evidence["serve"] == "center-75%" and top.evidence["train"] == "squash"
    assert top.impact["diff_explained"] > 0.9  # re-rendering with train's framing removes the difference


@pytest.fixture(scope="module")
def suite_probes(tmp_path_factory):
    from skewcheck.probes import write_probes

    root = tmp_path_factory.mktemp("probes")
    write_probes(root, kinds=["clean-jpeg-q95", "clean-png", "sentinel-channel-order", "rgba"])
    return root


@pytest.mark.usefixtures("run_from_repo")
@pytest.mark.parametrize(
    ("train", "serve", "side"), [("reference", "serve_opencv_bgr", "serve"), ("serve_opencv_bgr", "reference", "train")]
)
def test_channel_order_blames_the_side_holding_bgr(suite_probes, train, serve, side):
    report = skewcheck.compare(
        train="tests/skew_pairs.py:" + train, serve="tests/skew_pairs.py:" + serve, images=suite_probes
    )
    found = [f for f in report.findings if f.kind == "channel-order"]
    assert len(found) == 1 and found[0].side == side, [(f.kind, f.side, f.images) for f in report.findings]
    assert f"in {'serving' if side == 'serve' else 'training'}" in found[0].fix


@pytest.mark.usefixtures("run_from_repo")
def test_a_dropped_alpha_channel_is_never_read_as_a_channel_swap(suite_probes):
    report = skewcheck.compare(
        train="tests/skew_pairs.py:reference", serve="tests/skew_pairs.py:serve_alpha_dropped", images=suite_probes
    )
    kinds = [f.kind for f in report.findings]
    assert kinds[0] == "alpha" and "channel-order" not in kinds, kinds


def test_both_pipelines_missing_the_model_input_is_one_finding(tmp_path):
    """Identical pipelines that keep each file's own size: one shape finding, side both."""
    from tests.conftest import write_png

    root = tmp_path / "imgs"
    for i, size in enumerate((12, 16, 20, 24)):
        write_png(root / f"{i}.png", photo_like(30 + i, size))
    report = skewcheck.compare(
        model=str(MODELS / "tiny.keras"), train=REF + "pil_unit", serve=REF + "pil_unit_again", images=root
    )
    shapes = [f for f in report.findings if f.kind == "shape"]
    assert len(shapes) == 1, [(f.kind, f.side, f.evidence) for f in report.findings]
    assert shapes[0].side == "both" and shapes[0].images == 3  # the 16×16 image fits the model


def test_a_findings_examples_are_the_images_it_hurts_most(example):
    flipped = {
        r["path"] for r in example.images if (r.get("metrics", {}).get("prediction") or {}).get("top1_agree") is False
    }
    scale = example.findings[0]
    assert len(scale.examples) == 5 and set(scale.examples) <= flipped  # 17 flips: the examples are flips
