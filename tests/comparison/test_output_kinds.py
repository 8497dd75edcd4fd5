"""Non-classifier outputs (issue 17): dense maps, embeddings and detections, each by its own metric."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.comparison.detections import match_detections, parse_detections
from skewcheck.comparison.outputs import OutputJudge, dense_metrics, infer_kind, nn_agreement
from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.detectors import prediction
from skewcheck.findings import Severity
from skewcheck.pipelines.outcome import Outcome
from tests.conftest import REPO, photo_like, write_png

MODELS = REPO / "fixtures" / "models"
DENSE, EMBEDDING, DETECTOR = (str(MODELS / f"{n}.keras") for n in ("dense_map", "embedding", "detector"))
POST = str(MODELS / "detector_postprocess.py") + ":top3"
REF = str(REPO / "tests" / "output_pipelines.py") + ":"
AT_OR_ABOVE_MINOR = {"minor", "major", "critical"}


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outputs") / "images"
    for i in range(12):
        write_png(root / f"img{i:02d}.png", photo_like(i, 32))
    return root


def audit(images: Path, serve: str, **kw: object) -> dict:
    return skewcheck.compare(train=REF + "train", serve=REF + serve, images=images, **kw).to_dict()


# -- kinds and metrics, no model --------------------------------------------------------------


def test_kinds_are_inferred_from_shapes_and_task_overrides():
    scores, embedding = np.full(10, 0.1), np.linspace(-1, 1, 16)
    assert infer_kind(scores, None) == "classification"
    assert infer_kind(embedding, None) == "classification"  # 1-D cannot be told from logits
    assert infer_kind(embedding, "embedding") == "embedding"
    assert infer_kind(np.zeros((32, 32, 1)), None) == "dense"
    assert infer_kind(np.zeros((1, 32, 32)), None) == "dense"  # CHW map
    assert infer_kind(np.zeros((64, 48)), None) == "dense"
    assert infer_kind(np.zeros((100, 4)), None) == "other"  # a box list is no map
    assert infer_kind(np.zeros((32, 32, 1)), "classification") == "other"  # as before issue 17
    assert infer_kind(np.zeros((100, 4)), "dense") == "dense"
    assert infer_kind(scores, "detection") == "raw"


def test_dense_metrics_count_pixels_crossing_and_iou():
    a = np.zeros((10, 10))
    a[:5] = 0.9  # 50 positive pixels
    b = a.copy()
    b[4] = 0.1  # 10 of them drop below 0.5
    m = dense_metrics(a, b, 0.5)
    assert m["pixels_crossing"] == pytest.approx(0.10)
    assert m["iou"] == pytest.approx(40 / 50)
    assert m["mean_abs_diff"] == pytest.approx(0.08)
    assert m["changed"] is True
    assert dense_metrics(a, a, 0.5) | {"changed": False} == {
        "mean_abs_diff": 0.0,
        "pixels_crossing": 0.0,
        "pixels": 100,
        "iou": 1.0,
        "changed": False,
    }
    assert dense_metrics(np.zeros((4, 4)), np.zeros((4, 4)), 0.5)["iou"] == 1.0  # both empty: the same answer


def test_detections_match_into_kept_moved_lost_spurious():
    train = parse_detections(
        {
            "boxes": [[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50], [0, 40, 10, 50]],
            "scores": [0.9, 0.8, 0.7, 0.6],
            "labels": [1, 1, 2, 3],
        }
    )
    serve = parse_detections(
        (
            [
                [0, 0, 10, 10],  # kept
                [21, 21, 31, 31],  # moved: IoU 0.68
                [40, 40, 50, 50],  # same place, label 5: moved and relabelled
                [60, 60, 70, 70],
            ],  # spurious; train's 4th box is lost
            [0.9, 0.8, 0.7, 0.5],
            [1, 1, 5, 3],
        )
    )
    m = match_detections(train, serve)
    assert {k: m[k] for k in ("kept", "moved", "relabelled", "lost", "spurious")} == {
        "kept": 1,
        "moved": 2,
        "relabelled": 1,
        "lost": 1,
        "spurious": 1,
    }
    assert m["changed"] is True
    same = match_detections(train, train)
    assert (same["kept"], same["changed"], same["matched_iou"]) == (4, False, 1.0)
    only_moved = parse_detections(
        ([[0, 0, 10, 10], [21, 21, 31, 31], [40, 40, 50, 50], [0, 40, 10, 50]], [0.9, 0.8, 0.7, 0.6], [1, 1, 2, 3])
    )
    assert match_detections(train, only_moved)["changed"] is False  # moved boxes alone: same answer
    with pytest.raises(ValueError, match="N×4"):
        parse_detections({"boxes": [[1, 2, 3]]})
    with pytest.raises(ValueError, match="length"):
        parse_detections(([[0, 0, 1, 1]], [0.5, 0.6]))


def test_greedy_matching_goes_by_train_score():
    train = parse_detections(([[0, 0, 10, 10], [0, 0, 10, 11]], [0.5, 0.9], [0, 0]))
    serve = parse_detections(([[0, 0, 10, 11]], [0.9], [0]))
    m = match_detections(train, serve)
    assert (m["kept"], m["lost"], m["matched_iou"]) == (1, 1, 1.0)  # the 0.9 box took the exact match


def test_nearest_neighbour_agreement():
    rng = np.random.default_rng(0)
    train = [rng.normal(size=8).astype(np.float32) for _ in range(6)]
    assert nn_agreement(train, train)["nn_agreement"] == 1.0
    shuffled = train[1:] + train[:1]
    assert nn_agreement(train, shuffled)["nn_agreement"] < 1.0
    assert nn_agreement(train[:2], train[:2])["nn_agreement"] is None  # two images always agree


def test_judge_keeps_classification_primary_and_dense_only_without_it():
    judge = OutputJudge()
    assert not judge.judges([np.full(5, 0.2), np.zeros((32, 32, 1))])  # a class head decides
    assert OutputJudge().judges([np.zeros((32, 32, 1))])
    assert OutputJudge(task="embedding").judges([np.ones(16)])
    assert not OutputJudge().judges([np.ones(16)])


def test_prediction_detector_uses_the_answer_changed_hook():
    ok = Outcome(status="ok", tensor=np.zeros((2, 2, 3), np.float32))
    ctx = PairContext("x.png", ok, ok, answer_changed=True, outputs_within_tolerance=False)
    [obs] = prediction.detect(ctx)
    assert obs.severity == Severity.MINOR and obs.evidence == {"answer_changed": True}
    ctx = PairContext("x.png", ok, ok, answer_changed=False, outputs_within_tolerance=False)
    [obs] = prediction.detect(ctx)
    assert obs.severity == Severity.INFO  # outputs moved beyond atol, the answer did not
    assert prediction.detect(PairContext("x.png", ok, ok, answer_changed=False, outputs_within_tolerance=True)) == []


# -- through skewcheck.compare, real models -------------------------------------------------


def test_dense_identical_pipelines_report_nothing(images: Path):
    data = audit(images, "serve_same", model=DENSE)
    assert data["exit_code"] == 0
    assert not [f for f in data["findings"] if f["severity"] in AT_OR_ABOVE_MINOR]
    [dense] = data["summary"]["outputs"]
    assert dense["kind"] == "dense" and dense["output"] == 0
    assert (dense["metric"], dense["value"], dense["iou"], dense["changed"]) == ("pixels_crossing", 0.0, 1.0, 0)
    assert data["summary"]["answer_changed"] == {
        "task": "dense",
        "images": 12,
        "changed": 0,
        "rule": "more than 1% of a dense output's pixels cross the threshold",
    }
    record = data["images"][0]["metrics"]
    assert record["outputs"][0]["iou"] == 1.0 and record["answer"] == {"changed": False}


def test_dense_bgr_serve_headline_outputs_and_impact(images: Path):
    report = skewcheck.compare(model=DENSE, train=REF + "train", serve=REF + "serve_bgr", images=images)
    data = report.to_dict()
    [dense] = data["summary"]["outputs"]
    assert dense["value"] > 0.3 and dense["iou"] < 0.5 and dense["changed"] == 12  # 61 % cross, IoU 0.18
    assert data["summary"]["answer_changed"]["changed"] == 12
    top = data["findings"][0]
    assert top["kind"] == "channel-order" and top["severity"] == "critical"
    assert top["impact"]["flips_recovered"] == 12 and top["impact"]["agreement_after_fix"] == 1.0
    assert top["flips"] == 12
    assert data["summary"]["after_all_fixes"]["agreement"] == 1.0
    from skewcheck.report.common import headline, impact_text

    words = headline(data)
    assert f"dense output 0: {100 * dense['value']:.1f}% of pixels cross 0.5, IoU {dense['iou']:.3f}" in words
    assert "12 of 12 images changed" in words
    assert impact_text(top, data["summary"]).startswith("fixing this brings back 12 of 12 images whose answer changed")
    assert "dense output 0:" in report.to_markdown() and "dense output 0:" in report.to_html()
    assert json.loads(report.to_json())["summary"]["outputs"][0]["kind"] == "dense"


def test_dense_threshold_moves_the_binarization(images: Path):
    low = audit(images, "serve_same", model=DENSE, threshold=0.2)["summary"]["outputs"][0]
    assert low["threshold"] == 0.2 and low["iou"] == 1.0


def test_dense_missing_255_through_the_cli(images: Path, tmp_path: Path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--model",
            DENSE,
            "--train",
            REF + "train",
            "--serve",
            REF + "serve_no_scale",
            "--images",
            str(images),
            "--report",
            str(out),
        ],
    )
    assert result.exit_code == 1, result.output
    verdict = " ".join(result.output.split("\nmodel ")[0].split())  # the verdict sentence, however it wraps
    assert verdict.startswith("FAIL") and "dense output 0:" in verdict and "of pixels cross 0.5" in verdict
    assert "100.0 % of answers change (12 of 12" in verdict
    data = json.loads(out.read_text())
    [dense] = data["summary"]["outputs"]
    assert dense["value"] > 0.05 and dense["changed"] == 12
    top = data["findings"][0]
    assert top["kind"] == "scale" and top["impact"]["flips_recovered"] == 12


def test_embedding_task(images: Path):
    same = audit(images, "serve_same", model=EMBEDDING, task="embedding")
    assert same["exit_code"] == 0
    [emb] = same["summary"]["outputs"]
    assert (emb["kind"], emb["metric"], emb["value"], emb["nn_agreement"]) == ("embedding", "cosine", 1.0, 1.0)
    assert same["summary"]["top1_agreement"] is None  # no top-1 of an embedding
    bgr = audit(images, "serve_bgr", model=EMBEDDING, task="embedding")
    [emb] = bgr["summary"]["outputs"]
    assert emb["value"] < 0.99 and emb["nn_agreement"] < 1.0 and emb["nn_images"] == 12
    changed = bgr["summary"]["answer_changed"]["changed"]
    assert changed == emb["changed"] > 0
    top = bgr["findings"][0]
    assert top["kind"] == "channel-order" and top["impact"]["flips_recovered"] == changed
    default = audit(images, "serve_same", model=EMBEDDING)  # without --task: 1-D outputs are class scores
    assert default["summary"]["outputs"][0]["kind"] == "classification"


def test_detector_with_postprocess(images: Path):
    same = audit(images, "serve_same", model=DETECTOR, postprocess=POST)
    det = same["summary"]["outputs"][0]
    assert det["kind"] == "detection" and det["output"] == [0, 1]
    assert det["kept"] == det["train_boxes"] == 36 and det["value"] == 1.0
    assert same["exit_code"] == 0 and same["summary"]["answer_changed"]["changed"] == 0
    bgr = audit(images, "serve_bgr", model=DETECTOR, postprocess=POST)
    det = bgr["summary"]["outputs"][0]
    assert det["kept"] < det["train_boxes"]
    assert det["kept"] + det["moved"] + det["lost"] == det["train_boxes"]
    assert bgr["findings"][0]["kind"] == "channel-order"
    per_image = [r["metrics"]["answer"] for r in bgr["images"]]
    assert all({"kept", "moved", "lost", "spurious", "changed"} <= a.keys() for a in per_image)
    assert sum(a["kept"] for a in per_image) == det["kept"]


def _broken_post(outputs):  # noqa: ANN001, ANN202
    raise RuntimeError("no boxes today")


def test_a_failing_postprocess_is_counted_not_fatal(images: Path):
    data = audit(images, "serve_same", model=DETECTOR, postprocess=_broken_post)
    det = data["summary"]["outputs"][0]
    assert det["postprocess_errors"] == 12 and det["images"] == 0
    assert data["images"][0]["metrics"]["answer"]["error"] == "RuntimeError: no boxes today"
    from skewcheck.report.common import headline

    assert "post-process failed on 12" in headline(data)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--task", "segmentation"], "--task must be one of"),
        (["--task", "detection"], "needs --postprocess"),
        (["--task", "dense", "--postprocess", POST], "applies to --task detection"),
        (["--postprocess", "fixtures/models/nothing_here.py:fn"], "--postprocess file not found"),
    ],
)
def test_usage_errors(images: Path, args: list[str], message: str):
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--quiet",
            "--model",
            DENSE,
            "--train",
            REF + "train",
            "--serve",
            REF + "serve_same",
            "--images",
            str(images),
            *args,
        ],
    )
    assert result.exit_code == 2
    assert message in result.output
