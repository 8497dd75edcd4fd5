"""Which output is which head (issue 26): the classifier is not the first 1-D output, an anchor head
is no map, landmarks move in pixels, a presence score flips, and ``--output`` says it outright.

Fixture models: ``fixtures/build_head_models.py``; pipelines: ``tests/head_pipelines.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.comparison.decoders import nms, yolov5, yolov8
from skewcheck.comparison.heads import parse_output, plan_heads
from skewcheck.errors import UsageError
from tests.conftest import REPO, photo_crops

MODELS = REPO / "fixtures" / "models"
THREE, SSD, MESH, YOLO = (str(MODELS / f"{n}.keras") for n in ("three_heads", "ssd_like", "face_mesh", "yolo_like"))
REF = str(REPO / "tests" / "head_pipelines.py") + ":"
IMAGES = 16


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 crops of scikit-image's photos, 40-150 px, aspect 0.5 to 2 (resizers and letterboxes differ)."""

    def size(rng: np.random.Generator) -> tuple[int, int]:
        h = int(rng.integers(40, 150))
        return h, int(np.clip(h * rng.uniform(0.5, 2.0), 30, 300))

    root = tmp_path_factory.mktemp("heads") / "images"
    names = photo_crops(root, IMAGES, 26, size)
    rows = ["file,label", *(f"{name},{i % 2}" for i, name in enumerate(names))]
    (root.parent / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


def audit(photos: Path, model: str, serve: str, train: str = "train", **kw: object) -> dict:
    return skewcheck.compare(
        model=model, train=REF + train, serve=REF + serve, images=photos, workers=0, **kw
    ).to_dict()


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


# -- the plan, from outputs alone -------------------------------------------------------------


def test_the_output_of_probabilities_is_the_classifier_not_the_first_1d_output():
    box, marks, face = np.array([0.3, -1.2, 2.0, 0.1]), np.linspace(0, 1, 10), np.array([0.9, 0.1])
    plan = plan_heads([box, marks, face], ["box", "landmarks", "face"])
    assert plan.class_index == 2
    assert plan.kinds == ["regression", "landmarks", "classification"]
    assert plan.how[2] == "inferred: the one 1-D output of probabilities"


def test_several_logit_heads_and_no_way_to_tell_means_no_classifier_and_a_note():
    plan = plan_heads([np.array([0.3, -1.2, 2.0, 0.1]), np.array([1.5, -0.5])], ["out_a", "out_b"])
    assert plan.class_index is None
    assert plan.kinds == ["regression", "regression"]
    assert "none is judged as class scores" in plan.notes[0]
    named = plan_heads([np.array([0.3, -1.2, 2.0, 0.1]), np.array([1.5, -0.5])], ["bbox", "class_logits"])
    assert named.class_index == 1  # the name says which


def test_a_head_that_cannot_hold_the_labels_is_not_the_classifier():
    plan = plan_heads([np.array([0.2, 0.8])], max_label=7)
    assert plan.class_index is None
    assert "cannot hold the labels" in plan.notes[0]
    assert plan_heads([np.array([0.2, 0.8])], max_label=1).class_index == 0


def test_an_anchor_head_is_never_a_map_and_small_outputs_get_their_own_kinds():
    plan = plan_heads([np.zeros((2254, 12)), np.zeros((84, 8400)), np.zeros((64, 48)), np.zeros((1, 1, 1))])
    assert plan.kinds == ["anchors", "anchors", "dense", "binary"]
    assert plan.binary_threshold[3] == 0.5
    assert plan_heads([np.full((1,), -3.0)]).binary_threshold[0] == 0.0  # a logit
    assert any("raw anchor head" in n for n in plan.notes)
    assert plan_heads([np.zeros((468, 3))]).kinds == ["landmarks"]
    assert plan_heads([np.zeros((468, 3))]).dims == {0: 3}


def test_output_choices_override_and_bad_ones_are_usage_errors():
    plan = plan_heads(
        [np.zeros((1, 1, 1404)), np.zeros(2)],
        ["mesh_out", "flag"],
        (parse_output("0=landmarks:3"), parse_output("flag=binary")),
    )
    assert plan.kinds == ["landmarks", "binary"] and plan.dims == {0: 3}
    assert plan.how == ["--output 0=landmarks:3", "--output flag=binary"]
    for bad in ("0=blob", "=classification", "0=dense:3"):
        with pytest.raises(UsageError):
            parse_output(bad)
    with pytest.raises(UsageError, match="the model has 2 output"):
        plan_heads([np.zeros(2), np.zeros(2)], choices=(parse_output("5=classification"),))
    with pytest.raises(UsageError, match="no output of that name"):
        plan_heads([np.zeros(2)], ["scores"], (parse_output("logits"),))


# -- the decoders -----------------------------------------------------------------------------


def test_yolo_decoders_cut_by_confidence_and_suppress_overlaps_per_class():
    # YOLOv8 layout (4 + k) × N: two overlapping boxes of class 0, one of class 1 on top, one too faint
    rows = np.array(
        [
            [10, 10, 8, 8, 0.9, 0.0],
            [10.5, 10, 8, 8, 0.8, 0.0],
            [10, 10, 8, 8, 0.0, 0.7],
            *[[30, 30, 4, 4, 0.1, 0.1]] * 5,
        ]
    )  # 6 × 8 on the wire: more anchors than values per anchor, as in every real head
    out = yolov8([rows.T])
    assert out["labels"].tolist() == [0, 1]
    assert np.allclose(out["boxes"][0], [6, 6, 14, 14])
    assert np.allclose(out["scores"], [0.9, 0.7])
    v5 = yolov5([np.array([[10, 10, 8, 8, 0.5, 0.9, 0.1], [10, 10, 8, 8, 0.1, 0.9, 0.1]])])
    assert np.allclose(v5["scores"], [0.45])  # objectness × class score; the second is under 0.25
    kept = nms(np.array([[0, 0, 10, 10], [1, 0, 11, 10]], float), np.array([0.5, 0.9]), np.array([0, 0]))
    assert kept.tolist() == [1]


# -- through the audit ------------------------------------------------------------------------


def test_three_heads_correct_port_passes_and_labels_judge_the_face_head(photos: Path):
    r = audit(photos, THREE, "serve_port", labels=photos.parent / "labels.csv")
    s = r["summary"]
    assert r["verdict"] == "pass", r["findings"]
    assert s["heads"]["classifier"] == 2
    assert [o["kind"] for o in s["heads"]["outputs"]] == ["regression", "landmarks", "classification"]
    assert s["labelled"] == {"train": IMAGES, "serve": IMAGES}
    # the box head is judged by its own numbers, never as class scores
    assert s["outputs"][0]["kind"] == "regression" and s["outputs"][0]["metric"] == "mean_abs_diff"


def test_three_heads_harmless_rescale_passes(photos: Path):
    r = audit(photos, THREE, "serve_signed_128", train="train_signed")
    assert r["verdict"] == "pass", [(f["kind"], f["severity"]) for f in r["findings"]]
    assert r["summary"]["flips"] == 0


def test_output_option_names_the_classifier_and_the_report_says_so(photos: Path, tmp_path: Path):
    report = tmp_path / "r.json"
    code, out = cli(
        "compare", "--model", THREE, "--train", REF + "train", "--serve", REF + "serve_port",
        "--images", str(photos), "--output", "box=classification", "--report", str(report), "--workers", "0",
    )  # fmt: skip
    assert code in (0, 1), out
    heads = json.loads(report.read_text())["summary"]["heads"]
    assert heads["classifier"] == 0 and heads["outputs"][0]["how"] == "--output box=classification"
    assert "outputs judged: 0 box (4) → classification (--output box=classification)" in " ".join(out.split())


def test_a_bad_output_choice_is_a_one_line_usage_error(photos: Path):
    code, out = cli(
        "compare", "--model", THREE, "--train", REF + "train", "--serve", REF + "serve_port",
        "--images", str(photos), "--output", "7",
    )  # fmt: skip
    assert code == 2 and "the model has 3 output(s)" in out and "Traceback" not in out
    code, out = cli("compare", "--model", THREE, "--train", REF + "train", "--serve", REF + "serve_port",
                    "--images", str(photos), "--output", "0=blob")  # fmt: skip
    assert code == 2 and "the kind must be one of" in out
    code, out = cli("compare", "--train", REF + "train", "--serve", REF + "serve_port",
                    "--images", str(photos), "--output", "0")  # fmt: skip
    assert code == 2 and "it needs --model" in out and "Traceback" not in out


def test_ssd_like_head_is_judged_by_statistics_and_a_letterbox_swap_still_fails(photos: Path):
    r = audit(photos, SSD, "serve_stretch_vs_pad")
    s = r["summary"]
    assert [o["kind"] for o in s["heads"]["outputs"]] == ["anchors", "other"]
    assert all("pixels_crossing" not in o for o in s["outputs"])
    assert r["verdict"] == "fail"  # the letterbox moves the inputs grossly, whatever the head
    assert r["gate_details"]["damage"]


def test_face_mesh_landmarks_move_in_input_pixels_and_presence_is_a_binary_flip(photos: Path):
    same = audit(photos, MESH, "serve_port", outputs=["0=landmarks:3"])
    moved = audit(photos, MESH, "serve_bgr", outputs=["0=landmarks:3"])
    marks = {
        r: next(o for o in x["summary"]["outputs"] if o["kind"] == "landmarks")
        for r, x in (("same", same), ("bgr", moved))
    }
    assert marks["bgr"]["units"] == "input pixels"
    assert marks["bgr"]["moved_above"] == pytest.approx(0.32)  # 1 % of the 32-px input
    assert marks["bgr"]["value"] > marks["same"]["value"]
    assert same["summary"]["answer_changed"]["task"] == "landmarks"
    assert same["summary"]["answer_changed"]["images"] == IMAGES
    presence = next(o for o in moved["summary"]["outputs"] if o["kind"] == "binary")
    assert presence["threshold"] == 0.0  # a logit


def test_yolov8_builtin_postprocess_judges_detections(photos: Path):
    same = audit(photos, YOLO, "serve_port", postprocess="yolov8")
    bgr = audit(photos, YOLO, "serve_bgr", postprocess="yolov8")
    det_same, det_bgr = same["summary"]["outputs"][0], bgr["summary"]["outputs"][0]
    assert det_same["kind"] == det_bgr["kind"] == "detection"
    assert det_same["train_boxes"] > 0 and det_same["images"] == IMAGES
    assert det_bgr["changed"] > det_same["changed"]


def test_inspect_shows_how_each_output_is_judged():
    code, out = cli("inspect", THREE)
    assert code == 0
    assert "output 2 face (2) → classification (inferred: the one 1-D output of probabilities)" in out
    assert "output 0 box (4) → regression" in out


def test_an_embedding_with_singleton_axes_is_judged_as_an_embedding():
    from skewcheck.comparison.outputs import infer_kind

    assert infer_kind(np.zeros((1, 1, 1404)), "embedding") == "embedding"  # was "other": 0 images judged
    assert infer_kind(np.zeros((1, 1, 1404)), None) == "other"
