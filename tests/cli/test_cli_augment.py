"""`skewcheck augment` through the CLI, on real fixtures: the bundled digit classifier, a
text-direction classifier for which a 180° rotation is the label, and a detector whose boxes a
flip must move (fixtures/augment/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixtures.augment import box_detector, text_direction
from skewcheck.cli import app
from tests.conftest import REPO

AUG = REPO / "fixtures" / "augment"
TEXT_MODEL = REPO / "fixtures" / "models" / "text_direction.keras"


def run(args: list[str], tmp_path: Path) -> tuple[int, str, dict]:
    report = tmp_path / "augment.json"
    result = CliRunner().invoke(app, ["augment", "--quiet", "--report", str(report), *args])
    data = json.loads(report.read_text()) if report.exists() else {}
    return result.exit_code, result.output, data


def findings(data: dict, kind: str) -> list[dict]:
    return [f for f in data["findings"] if f["kind"] == kind]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`skewcheck augment --example` once, every report format written by that run."""
    out = tmp_path_factory.mktemp("augment-example")
    paths = {ext: out / f"r.{ext}" for ext in ("json", "md", "xml", "html")}
    args = [a for p in paths.values() for a in ("--report", str(p))]
    result = CliRunner().invoke(app, ["augment", "--example", *args])
    return {"result": result, "paths": paths, "json": json.loads(paths["json"].read_text())}


def test_example_rot180_turns_six_into_nine(example: dict) -> None:
    data = example["json"]
    assert example["result"].exit_code == 1, example["result"].output
    assert data["schema"] == "skewcheck.augment/v1" and data["verdict"] == "fail"
    assert data["summary"]["images"] == 60 and data["summary"]["clean"]["accuracy"] == 0.95
    six_nine = [f for f in findings(data, "label-breaking") if (f["from"], f["to"]) == (6, 9)]
    assert len(six_nine) == 1
    f = six_nine[0]
    assert (f["transform"], f["strength"], f["count"], f["of"], f["severity"]) == ("rotate", 180.0, 5, 6, "critical")
    assert f["interval"][0] < f["share"] < f["interval"][1] and f["fails_gate"]
    assert all(e.startswith("6/") for e in f["examples"])


def test_example_hflip_turns_fives_into_twos_and_rotate_collapses_into_four(example: dict) -> None:
    data = example["json"]
    five_two = [f for f in findings(data, "label-breaking") if f["transform"] == "flip-h" and f["from"] == 5]
    assert five_two and five_two[0]["to"] == 2 and five_two[0]["count"] == 3
    rotate = next(t for t in data["transforms"] if t["name"] == "rotate")
    at_45 = rotate["results"][0]
    assert at_45["strength"] == 45.0 and at_45["collapse_to"] == [4]  # many classes → 4: out of distribution
    assert not any(f["to"] == 4 for f in findings(data, "label-breaking") if f["transform"] == "rotate")


def test_example_safe_ranges_and_one_batched_pass_per_strength(example: dict) -> None:
    data = example["json"]
    by_name = {t["name"]: t for t in data["transforms"]}
    assert by_name["brightness"]["safe_max"] == 0.2 and by_name["brightness"]["beyond"] == [0.3, 0.4]
    assert by_name["blur"]["safe_max"] == 0.75
    assert by_name["rotate"]["safe_max"] is None
    assert data["summary"]["model_passes"] == 1 + 4 + 1 + 4 + 4
    ood = {f["transform"] for f in findings(data, "out-of-distribution")}
    assert ood == {"rotate", "flip-h", "brightness", "blur"}


def test_example_reports_share_one_model(example: dict) -> None:
    md = example["paths"]["md"].read_text()
    assert "| critical | label-breaking | rotate | 180 | 6 → 9: 5 of 6 confident" in md
    xml = example["paths"]["xml"].read_text()
    assert '<testsuite name="rotate" tests="4" failures="4">' in xml
    html = example["paths"]["html"].read_text()
    assert html.count("<svg") == 4 and "6 → 9: 5 of 6 confident" in html


def test_a_safe_policy_passes(tmp_path: Path) -> None:
    spec = tmp_path / "mild.toml"
    spec.write_text(
        '[[transform]]\nname = "brightness"\nmax = 0.1\nsteps = 2\n\n[[transform]]\nname = "blur"\nmax = 0.5\nsteps = 2\n'
    )
    code, output, data = run(["--example", "--augment", str(spec)], tmp_path)
    assert code == 0, output
    assert data["verdict"] == "pass" and data["findings"] == []
    assert [t["safe_max"] for t in data["transforms"]] == [0.1, 0.5]


def test_text_direction_rot180_is_the_label(tmp_path: Path) -> None:
    labels = text_direction.write_images(tmp_path / "lines")
    code, output, data = run(
        [
            "--model", str(TEXT_MODEL),
            "--train", f"{AUG / 'text_direction.py'}:train_preprocess",
            "--augment", str(AUG / "text_direction.toml"),
            "--images", str(tmp_path / "lines"),
            "--labels", str(labels),
        ],
        tmp_path,
    )  # fmt: skip
    assert code == 1, output
    pairs = {(f["from"], f["to"]): f for f in findings(data, "label-breaking")}
    assert set(pairs) == {(0, 1), (1, 0)}
    assert all(f["transform"] == "rotate-180" and f["share"] == 1.0 for f in pairs.values())
    assert {t["name"]: t["beyond"] for t in data["transforms"]} == {
        "rotate-180": [180.0],
        "brightness": [],
        "noise": [],
    }


def _detector_args(tmp_path: Path, augment: str) -> list[str]:
    box_detector.write_images(tmp_path / "scenes")
    return [
        "--model", f"{AUG / 'box_detector.py'}:predict",
        "--train", f"{AUG / 'box_detector.py'}:train_preprocess",
        "--postprocess", f"{AUG / 'box_detector.py'}:postprocess",
        "--images", str(tmp_path / "scenes"),
        "--augment", augment,
    ]  # fmt: skip


def test_detection_finds_the_box_transform_that_leaves_the_boxes_behind(tmp_path: Path) -> None:
    code, output, data = run(_detector_args(tmp_path, f"{AUG / 'detection_policy.py'}:policy"), tmp_path)
    assert code == 1, output
    assert data["summary"]["task"] == "detection" and data["summary"]["metric"] == "targets_agree"
    broken = findings(data, "target-breaking")
    assert [f["transform"] for f in broken] == ["flip-h-boxes-kept"]
    assert broken[0]["count"] == broken[0]["of"] == 12
    by_name = {t["name"]: t["results"][0] for t in data["transforms"]}
    assert by_name["flip-h-with-boxes"]["targets_agree"] == 1.0 and by_name["flip-h-with-boxes"]["matched_iou"] == 1.0
    assert by_name["darker"]["targets_agree"] == 1.0


def test_detection_builtin_flips_move_the_boxes_with_the_pixels(tmp_path: Path) -> None:
    spec = tmp_path / "flips.toml"
    spec.write_text('[[transform]]\nname = "flip-h"\n\n[[transform]]\nname = "flip-v"\n')
    code, output, data = run(_detector_args(tmp_path, str(spec)), tmp_path)
    assert code == 0, output
    assert [t["results"][0]["matched_iou"] for t in data["transforms"]] == [1.0, 1.0]


def test_a_transform_that_raises_is_its_recorded_error(tmp_path: Path) -> None:
    code, output, data = run(
        _detector_args(tmp_path, f"{AUG / 'detection_policy.py'}:policy_with_a_broken_transform"), tmp_path
    )
    assert code == 1, output
    broken = next(t for t in data["transforms"] if t["name"] == "broken")
    assert broken["error"].endswith("RuntimeError: this transform always fails")
    assert [f["severity"] for f in findings(data, "transform-error")] == ["critical"]
    assert next(t for t in data["transforms"] if t["name"] == "darker")["results"][0]["targets_agree"] == 1.0


@pytest.mark.parametrize(
    "args,message",
    [
        (["--example", "--augment", "nope.toml"], "--augment file not found: nope.toml"),
        (["--example", "--value-range", "1,0"], "--value-range needs finite LO < HI"),
        (["--example", "--confidence", "1.5"], "--confidence must be a number in (0, 1]"),
        (["--example", "--fail-on", "sometimes"], "--fail-on must be one of"),
        (["--model", "m.keras"], "augment: --train, --augment, --images are required"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["augment", *args])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_unknown_builtin_names_the_nearest(tmp_path: Path) -> None:
    spec = tmp_path / "typo.toml"
    spec.write_text('[[transform]]\nname = "rotation"\n')
    result = CliRunner().invoke(app, ["augment", "--example", "--augment", str(spec)])
    assert result.exit_code == 2 and "did you mean 'rotate'?" in result.output


def test_help_does_not_import_tensorflow() -> None:
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom skewcheck.cli import app\n"
        "r = CliRunner().invoke(app, ['augment', '--help'])\n"
        "print(r.exit_code, 'tensorflow' in sys.modules, 'cv2' in sys.modules, '--augment' in r.output)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.stdout.split() == ["0", "False", "False", "True"], proc.stderr


def test_a_keras_layer_is_a_transform_whose_boxes_stay_behind(tmp_path: Path) -> None:
    """RandomFlip flips about half the images (its own seeded draw); the boxes do not follow."""
    code, output, data = run(_detector_args(tmp_path, f"{AUG / 'detection_policy.py'}:keras_policy"), tmp_path)
    assert code == 1, output
    (t,) = data["transforms"]
    assert t["source"] == "keras layer" and not t["moves_boxes"]
    result = t["results"][0]
    assert 0 < result["found_elsewhere"] < 12 and result["transform_errors"] == 0


def _without_chunking(data: dict) -> dict:
    summary = {k: v for k, v in data["summary"].items() if k not in ("chunk_images", "chunks", "value_range_from")}
    return {**data, "summary": summary}


def test_the_report_is_the_same_with_0_1_and_2_workers(example: dict, tmp_path: Path) -> None:
    """Workers only decode, ahead of the audit; the report is byte for byte the in-process one.
    The module's ``example`` run is the 0-worker one: ``auto`` (its default) decodes in this
    process exactly as ``--workers 0`` does (augment/api.py: ``0 if count == AUTO``)."""
    in_process = example["paths"]["json"].read_text()
    for n in ("1", "2"):
        code, output, _ = run(["--example", "--workers", n], tmp_path)
        assert code == 1, output
        assert (tmp_path / "augment.json").read_text() == in_process, f"--workers {n}"


def test_chunks_change_nothing_but_the_chunk_count(
    example: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 images in chunks of 16 (4 chunks, one batched pass per strength each) give the report
    of one chunk of 60: the tallies add up to the same numbers and the same example images."""
    from skewcheck.augment import audit

    monkeypatch.setattr(audit, "CHUNK_IMAGES", 16)
    code, output, chunked = run(["--example", "--workers", "1"], tmp_path)
    assert code == 1, output
    assert chunked["summary"]["chunks"] == 4 and example["json"]["summary"]["chunks"] == 1
    assert "first 16 answered images" in chunked["summary"]["value_range_from"]
    assert _without_chunking(chunked) == _without_chunking(example["json"])


def test_sample_draws_a_seeded_subset_per_label(tmp_path: Path) -> None:
    code, output, data = run(["--example", "--sample", "20", "--augment", str(_mild(tmp_path))], tmp_path)
    assert code in (0, 1), output
    sample = data["summary"]["sample"]
    assert (sample["images"], sample["of"], sample["stratified_by"]) == (20, 60, ["label"])
    assert data["summary"]["images"] == data["summary"]["files"] == 20
    _, _, again = run(["--example", "--sample", "20", "--augment", str(_mild(tmp_path))], tmp_path)
    assert again == data


def _mild(tmp_path: Path) -> Path:
    spec = tmp_path / "mild.toml"
    spec.write_text('[[transform]]\nname = "brightness"\nmax = 0.1\nsteps = 2\n')
    return spec
