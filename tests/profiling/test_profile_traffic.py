"""compare --traffic: findings weighted by the share of production carrying their trigger (issue 30)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from skewcheck.cli import app
from skewcheck.profile import profile
from skewcheck.profile.traffic import model_size, traffic_weights
from tests.traffic_folders import ADOBE_RGB

PIPELINES = ["--train", "tests.profile_pipelines:upright", "--serve", "tests.profile_pipelines:as_stored"]


def _profile_dict(files: int, traits: dict[str, int], sizes: dict[str, int], jpeg: int = 0) -> dict:
    return {
        "images": {"files": files, "source": "prod"},
        "traits": {name: {"count": count} for name, count in traits.items()},
        "categories": {"format": {"values": {"JPEG": {"count": jpeg}}}},
        "sizes": sizes,
    }


def _finding(kind: str, images: int, flips: int) -> dict:
    return {"kind": kind, "images": images, "flips_on_images": flips}


def test_the_orientation_sentence_of_the_issue():
    prod = _profile_dict(100, {"exif_rotated": 38}, {"224x224": 100})
    (weight,) = traffic_weights([_finding("orientation", 10, 4)], prod, (224, 224))
    assert weight["share"] == 0.38
    assert weight["flip_rate"] == 0.4
    assert weight["weighted"] == pytest.approx(0.152)
    assert weight["basis"] == "predictions"
    assert weight["sentence"] == (
        "orientation: 38 % of production images carry EXIF orientation ≠ 1; "
        "on its 10 audited images 40 % of predictions flip → about 15 % of production predictions"
    )


def test_sizes_drive_resize_crop_and_padding():
    prod = _profile_dict(10, {}, {"224x224": 5, "448x448": 2, "640x480": 3})
    weights = traffic_weights(
        [_finding("resize", 4, 0), _finding("padding", 4, 0), _finding("channel-order", 4, 0)],
        prod,
        (224, 224),
        predicted=False,
    )
    assert [w["count"] for w in weights] == [5, 3, 10]  # other size; other aspect; every image
    assert [w["weighted"] for w in weights] == [0.5, 0.3, 1.0]
    assert weights[2]["sentence"] == "channel-order: every production image"
    unknown = traffic_weights([_finding("resize", 4, 0)], prod, None)
    assert unknown[0]["weighted"] is None


def test_a_probe_kind_names_the_trigger_of_other_kinds():
    prod = _profile_dict(20, {"cmyk": 3}, {})
    records = [{"probe": {"kind": "cmyk-jpeg"}, "findings": ["pipeline-error"]}]
    (weight,) = traffic_weights([_finding("pipeline-error", 1, 0)], prod, None, records, predicted=False)
    assert (weight["trigger"], weight["count"], weight["weighted"]) == ("cmyk", 3, 0.15)


def test_model_size_from_the_signature_or_the_train_tensors():
    assert model_size({"input": {"shape": [None, 96, 128, 3]}}, []) == (96, 128)
    assert model_size({"input": {"shape": [None, 3, 96, 128]}}, []) == (96, 128)
    assert model_size({"path": "none"}, [{"train": {"shape": [32, 32, 3]}}]) == (32, 32)


@pytest.fixture(scope="module")
def audit_folder(tmp_path_factory):
    """12 PNGs: 4 with EXIF orientation 6, 4 with an Adobe RGB profile (orientation and
    color-profile findings between the two pipelines)."""
    out = tmp_path_factory.mktemp("audit")
    rng = np.random.default_rng(1)
    for i in range(12):
        a = np.zeros((48, 64, 3), np.uint8)
        a[:, : 20 + i] = (200, 40, 30)
        a[:10] = (20, 180, 60)
        kw: dict = {}
        if i % 3 == 1:
            exif = Image.Exif()
            exif[0x0112] = 6
            kw["exif"] = exif.tobytes()
        if i % 3 == 2:
            kw["icc_profile"] = ADOBE_RGB.read_bytes()
        Image.fromarray((a + rng.integers(0, 20, a.shape)).astype(np.uint8)).save(out / f"img{i:02d}.png", **kw)
    return out


def _production(folder, exif: int, icc: int, tmp_path):
    """A profile JSON of 10 JPEGs: ``exif`` with EXIF orientation 6, ``icc`` with Adobe RGB."""
    folder.mkdir()
    exif_block = Image.Exif()
    exif_block[0x0112] = 6
    for i in range(10):
        kw: dict = {}
        if i < exif:
            kw["exif"] = exif_block.tobytes()
        elif i < exif + icc:
            kw["icc_profile"] = ADOBE_RGB.read_bytes()
        Image.new("RGB", (32, 32), (i, 2 * i, 3 * i)).save(folder / f"{i}.jpg", **kw)
    path = tmp_path / f"{folder.name}.json"
    result = profile(folder, workers=0)
    with open(path, "w", encoding="utf-8") as out:
        result.write_json(out)
    return path


def _compare(audit_folder, tmp_path, *extra: str):
    report = tmp_path / "r.json"
    args = ["compare", *PIPELINES, "--images", str(audit_folder), "--model", "none", "--fail-on", "never"]
    result = CliRunner().invoke(app, [*args, "--report", str(report), "-q", *extra])
    return result, (json.loads(report.read_text()) if report.exists() else None)


def test_compare_traffic_reorders_findings_and_gates(audit_folder, tmp_path):
    exif_heavy = _production(tmp_path / "exif", 6, 1, tmp_path)
    icc_heavy = _production(tmp_path / "icc", 1, 6, tmp_path)
    result, plain = _compare(audit_folder, tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(f["kind"] for f in plain["findings"]) == ["color-profile", "orientation"]
    assert all("traffic" not in f for f in plain["findings"])

    result, by_exif = _compare(audit_folder, tmp_path, "--traffic", str(exif_heavy))
    assert [f["kind"] for f in by_exif["findings"]] == ["orientation", "color-profile"]
    assert [f["traffic"]["share"] for f in by_exif["findings"]] == [0.6, 0.1]
    assert by_exif["findings"][0]["traffic"]["sentence"] == (
        "orientation: 60 % of production images carry EXIF orientation ≠ 1"
    )
    result, by_icc = _compare(audit_folder, tmp_path, "--traffic", str(icc_heavy))
    assert [f["kind"] for f in by_icc["findings"]] == ["color-profile", "orientation"]
    assert by_icc["summary"]["traffic"]["files"] == 10

    result, gated = _compare(audit_folder, tmp_path, "--traffic", str(icc_heavy), "--fail-on-traffic-share", "0.5")
    assert result.exit_code == 1
    assert gated["gate_details"]["failed"] == ["fail-on-traffic-share"]
    result, _ = _compare(audit_folder, tmp_path, "--traffic", str(icc_heavy), "--fail-on-traffic-share", "0.6")
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fail-on-traffic-share", "0.1"], "needs --traffic"),
        (["--traffic", "/nonexistent/p.json"], "cannot read a profile JSON"),
    ],
)
def test_traffic_usage_errors(audit_folder, tmp_path, extra, message):
    result, _ = _compare(audit_folder, tmp_path, *extra)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_traffic_reads_v2_and_v1_profiles(tmp_path):
    """v2 changed how the pixel statistics are measured, which --traffic does not read: a v1 profile
    is still read; anything else is a one-line usage error."""
    from skewcheck.errors import UsageError
    from skewcheck.profile import SCHEMA
    from skewcheck.profile.traffic import load_profile

    for schema in (SCHEMA, "skewcheck.profile/v1"):
        path = tmp_path / "p.json"
        path.write_text(json.dumps({"schema": schema, **_profile_dict(10, {"alpha": 1}, {}), "files": [{}]}))
        loaded = load_profile(path)
        assert loaded["schema"] == schema and "files" not in loaded
    path.write_text(json.dumps({"schema": "skewcheck.profile/v0"}))
    with pytest.raises(UsageError, match="not a skewcheck.profile/v2 profile"):
        load_profile(path)
