"""Golden snapshots: write, load without pickle, replay in compare, changed bytes, CLI."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from skewcheck import __version__
from skewcheck.api import compare
from skewcheck.cli import app
from skewcheck.errors import UsageError
from skewcheck.pipelines import load_pipeline
from skewcheck.pipelines.snapshot import CHANGED, NOT_IN_SNAPSHOT, take_snapshot
from tests.conftest import REPO, photo_like, write_png

PIPES = "tests/pipelines_for_tests.py"
UNIT = f"{REPO / PIPES}:pil_unit"
RAW = f"{REPO / PIPES}:pil_raw"


def snapshot(images: Path, out: Path, ref: str = UNIT) -> Path:
    take_snapshot(ref, out, images=images)
    return out


def record_of(report: dict, path: str) -> dict:
    return next(r for r in report["images"] if r["path"] == path)


def test_file_holds_exact_tensors_hashes_and_metadata(image_dir: Path, tmp_path: Path) -> None:
    out = snapshot(image_dir, tmp_path / "golden.npz")
    with np.load(out, allow_pickle=False) as npz:  # nothing pickled anywhere
        meta = json.loads(npz["__meta__"].tobytes())
        arrays = {k: npz[k] for k in npz.files if k != "__meta__"}
    assert meta["format"] == "skewcheck.snapshot/v1"
    assert meta["skewcheck_version"] == __version__
    assert meta["pipeline"]["ref"] == UNIT
    assert "pil_unit" in meta["pipeline"]["description"]
    by_path = {r["path"]: r for r in meta["images"]}
    assert sorted(by_path) == [
        "a/img0.png",
        "a/img1.png",
        "a/img2.png",
        "b/img3.png",
        "b/img4.png",
        "b/img5.png",
        "b/notes.jpg",
    ]
    for rel, rec in by_path.items():
        data = (image_dir / rel).read_bytes()
        assert rec["sha256"] == hashlib.sha256(data).hexdigest() and rec["size"] == len(data)
    garbage = by_path["b/notes.jpg"]
    assert garbage["status"] == "decode-error" and garbage["error_type"] == "UnidentifiedImageError"
    assert "array" not in garbage
    t = arrays[by_path["a/img1.png"]["array"]]
    assert t.dtype == np.float32 and t.shape == (24, 24, 3)
    np.testing.assert_array_equal(t, photo_like(1).astype(np.float32) / 255.0)


def test_raw_uint8_kept_as_uint8(image_dir: Path, tmp_path: Path) -> None:
    out = snapshot(image_dir, tmp_path / "raw.npz", RAW)
    pipe = load_pipeline(str(out), images_root=image_dir)
    outcome = pipe.run(image_dir / "b" / "img4.png")
    assert outcome.status == "ok" and outcome.tensor.dtype == np.uint8
    np.testing.assert_array_equal(outcome.tensor, photo_like(4))


def test_round_trip_against_the_same_pipeline_passes(image_dir: Path, tmp_path: Path) -> None:
    golden = snapshot(image_dir, tmp_path / "golden.npz")
    report = compare(train=str(golden), serve=UNIT, images=image_dir)
    data = report.to_dict()
    assert report.exit_code == 0, data["findings"]
    assert data["findings"] == []
    assert data["summary"]["compared"] == 6
    assert data["summary"]["decode_errors"] == {"train": 1, "serve": 1}  # replayed, not re-run
    assert data["summary"]["missing"] == {"train": 0, "serve": 0}
    assert data["pipelines"]["train"]["ref"] == str(golden)


def test_snapshot_of_unit_against_raw_serving_is_a_scale_finding(image_dir: Path, tmp_path: Path) -> None:
    golden = snapshot(image_dir, tmp_path / "golden.npz")
    report = compare(train=str(golden), serve=RAW, images=image_dir)
    assert report.exit_code == 1
    top = report.findings[0]
    assert (top.kind, top.side, top.evidence["k"]) == ("scale", "unknown", 255.0)
    assert top.images == 6
    assert {f.kind for f in report.findings} == {"scale", "dtype"}


def test_changed_bytes_are_reported_not_compared(image_dir: Path, tmp_path: Path) -> None:
    golden = snapshot(image_dir, tmp_path / "golden.npz")
    changed = photo_like(2)
    changed[0, 0] = 255 - changed[0, 0]
    write_png(image_dir / "a" / "img2.png", changed)  # same path, other bytes
    write_png(image_dir / "c" / "new.png", photo_like(9))  # not in the snapshot at all
    shutil.move(image_dir / "b" / "img5.png", image_dir / "c" / "moved.png")  # same bytes, new path
    report = compare(train=str(golden), serve=UNIT, images=image_dir).to_dict()
    rec = record_of(report, "a/img2.png")["train"]
    assert rec["status"] == "missing" and rec["error_type"] == CHANGED
    assert "changed since the snapshot" in rec["error"]
    assert record_of(report, "a/img2.png")["metrics"] == {}
    new = record_of(report, "c/new.png")["train"]
    assert new["status"] == "missing" and new["error_type"] == NOT_IN_SNAPSHOT
    assert record_of(report, "c/moved.png")["train"]["status"] == "ok"  # matched by content hash
    assert report["summary"]["missing"] == {"train": 2, "serve": 0}
    assert report["summary"]["compared"] == 5
    assert report["findings"] == []


def test_snapshot_of_other_images_is_an_audit_error(image_dir: Path, tmp_path: Path) -> None:
    golden = snapshot(image_dir, tmp_path / "golden.npz")
    other = tmp_path / "other"
    write_png(other / "x.png", photo_like(42))
    report = compare(train=str(golden), serve=UNIT, images=other)
    assert report.exit_code == 3
    assert "no tensor for any of the 1 images" in report.audit_error


def test_refuses_npz_that_is_not_a_snapshot_or_needs_pickle(tmp_path: Path) -> None:
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.zeros(3))
    with pytest.raises(UsageError, match="not a skewcheck snapshot"):
        load_pipeline(str(plain))
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __meta__=np.array([{"format": "skewcheck.snapshot/v1"}], dtype=object))
    with pytest.raises(UsageError, match="not valid JSON|allow_pickle"):
        load_pipeline(str(pickled))
    with pytest.raises(UsageError, match="not found"):
        load_pipeline(str(tmp_path / "absent.npz"))


def test_builtin_probe_set_snapshot_size(tmp_path: Path) -> None:
    """The figures docs/snapshots.md states for float32 [0, 1] tensors of every built-in probe."""
    from skewcheck import probes

    stats = take_snapshot(UNIT, tmp_path / "probes.npz")
    assert stats.images == len(probes.load_manifest(probes.builtin_probe_dir()))  # every probe, once
    rejected = sum(1 for e in probes.load_manifest(probes.builtin_probe_dir()).values() if e.expect == "reject")
    assert stats.ok <= stats.images - rejected  # a probe meant to be rejected never yields a tensor
    doc = (REPO / "docs" / "snapshots.md").read_text()
    stated = re.search(r"wrote probes-golden\.npz \(([\d.]+) MiB\): (\d+) images, (\d+) tensors", doc)
    assert stated is not None
    assert (int(stated[2]), int(stated[3])) == (stats.images, stats.ok)
    assert float(stated[1]) == pytest.approx(stats.bytes_written / 2**20, abs=0.05)


runner = CliRunner()


def test_cli_snapshot_then_compare(image_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ci" / "golden.npz"
    result = runner.invoke(app, ["snapshot", "--pipeline", UNIT, "--images", str(image_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out} (") and "7 images, 6 tensors, 1 decode-error" in result.output
    result = runner.invoke(app, ["compare", "--train", str(out), "--serve", UNIT, "--images", str(image_dir), "-q"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "g.npz"], "--pipeline is required"),
        (["--pipeline", UNIT], "-o/--out is required"),
        (["--pipeline", UNIT, "-o", "golden.json"], "a snapshot is a .npz file"),
        (["--pipeline", "nope.py:fn", "-o", "g.npz"], "file not found"),
    ],
)
def test_cli_snapshot_usage_errors(args: list[str], message: str, image_dir: Path) -> None:
    result = runner.invoke(app, ["snapshot", "--images", str(image_dir), *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
