"""skewcheck profile on generated traffic folders: every figure checked exactly (issue 30)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from skewcheck.comparison.intervals import wilson
from skewcheck.profile import SCHEMA, profile
from skewcheck.profile.drift import psi, share_difference, wasserstein
from skewcheck.profile.jpeg import estimate_quality, missing_end
from tests.traffic_folders import PRODUCTION, REFERENCE_FILES, write_production, write_reference

FILES = sum(PRODUCTION.values())


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("traffic")
    return write_production(root / "prod"), write_reference(root / "ref")


@pytest.fixture(scope="module")
def profiled(folders):
    prod, ref = folders
    result = profile(prod, ref, workers=0)
    yield result.to_dict(files=True)
    result.close()


def test_traits_are_counted_exactly_with_their_wilson_intervals(profiled):
    traits = profiled["traits"]
    expected = {
        "exif_rotated": PRODUCTION["exif6"],
        "cmyk": PRODUCTION["cmyk"],
        "truncated": PRODUCTION["truncated"],
        "decode_failure": PRODUCTION["truncated"] + PRODUCTION["text"],
        "icc_profile": PRODUCTION["icc"],
        "icc_not_srgb": PRODUCTION["icc"],
        "alpha": PRODUCTION["rgba"],
        "animated": 0,
        "progressive": 0,
    }
    for name, count in expected.items():
        assert traits[name]["count"] == count, name
        assert traits[name]["share"] == round(count / FILES, 6)
        low, high = wilson(count, FILES)
        assert traits[name]["ci95"] == [round(low, 6), round(high, 6)]
        assert traits[name]["reference"]["count"] == 0
    assert traits["exif_rotated"]["share"] == 0.25
    d, (low, high) = share_difference(5, FILES, 0, REFERENCE_FILES)
    assert traits["exif_rotated"]["difference"] == {"value": 0.25, "ci95": [round(low, 6), round(high, 6)]}
    assert low > 0  # 5 of 20 against 0 of 40: a difference the interval does not put at zero


def test_sizes_formats_quality_and_failures(profiled):
    assert profiled["images"]["files"] == FILES
    assert profiled["images"]["decoded"] == FILES - 3
    assert profiled["reference"]["files"] == REFERENCE_FILES
    assert profiled["sizes"] == {"320x240": FILES - PRODUCTION["large"] - PRODUCTION["text"], "640x480": 4}
    cats = profiled["categories"]
    assert {k: v["count"] for k, v in cats["status"]["values"].items()} == {
        "ok": 17,
        "truncated": 2,
        "not-an-image": 1,
    }
    assert {k: v["count"] for k, v in cats["format"]["values"].items()} == {"JPEG": 18, "PNG": 1}
    assert {k: v["count"] for k, v in cats["subsampling"]["values"].items() if v["count"]} == {"4:2:0": 15, "4:4:4": 3}
    assert cats["icc"]["values"]["Compatible with Adobe RGB (1998)"]["count"] == 2
    quality = profiled["numbers"]["jpeg_quality"]
    assert (quality["count"], quality["min"], quality["max"]) == (18, 85.0, 85.0)
    assert all(f["jpeg_quality_exact"] for f in profiled["files"] if f.get("format") == "JPEG")
    failures = profiled["failures"]
    assert failures["count"] == 3
    assert [(f["path"], f["status"]) for f in failures["listed"]] == [
        ("10-truncated.jpg", "truncated"),
        ("11-truncated.jpg", "truncated"),
        ("19-text.jpg", "not-an-image"),
    ]
    assert "truncated" in failures["listed"][0]["error"]


def test_pixel_statistics_of_a_solid_image(profiled):
    (png,) = [f for f in profiled["files"] if f["path"].endswith("rgba.png")]
    assert png["pixels"] == {
        "mean": [10.0, 20.0, 30.0],
        "std": [0.0, 0.0, 0.0],
        "brightness": 18.15,  # 0.299·10 + 0.587·20 + 0.114·30
        "contrast": 0.0,
        "saturated": 0.0,
        "blur": 0.0,
    }
    assert (png["mode"], png["alpha"], png["bit_depth"]) == ("RGBA", True, 8)


def test_flags_say_it_in_plain_language(profiled):
    texts = [f["text"] for f in profiled["flags"]]
    assert "25 % of these images carry EXIF orientation ≠ 1; the reference set has none" in texts
    assert "15 % of these images are CMYK; the reference set has none" in texts
    assert "15 % of these images fail to decode; the reference set has none" in texts
    width = next(f for f in profiled["flags"] if f["property"] == "width")
    assert width["text"].startswith("width: median 320 (5-95 %: 320-640) px here")


def test_drift_measures_against_hand_computed_values():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 500), rng.normal(1, 1, 400)
    # W1 is the area between the CDFs: a shift by 1 of one distribution gives about 1
    assert wasserstein(a, a) == 0.0
    assert wasserstein(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 2.0
    assert psi(a, a) == 0.0
    assert psi(b, a) > 0.25
    # a discrete property compares value by value: half the files at another size
    assert psi(np.array([640.0] * 50 + [4032.0] * 50), np.array([640.0] * 100)) == pytest.approx(
        (0.5 - 1) * np.log(0.5 / 1) + (0.5 - 1e-4) * np.log(0.5 / 1e-4)
    )


def test_jpeg_quality_inverse_and_missing_end():
    import io

    from PIL import Image

    for quality in (10, 50, 75, 95):
        out = io.BytesIO()
        Image.new("RGB", (16, 16)).save(out, "JPEG", quality=quality)
        with Image.open(io.BytesIO(out.getvalue())) as im:
            assert estimate_quality(im.quantization) == (quality, True)
        assert not missing_end(out.getvalue())
        assert missing_end(out.getvalue()[:-2])


def test_the_profile_is_the_same_with_workers(folders, profiled):
    prod, ref = folders
    result = profile(prod, ref, workers=2)
    assert result.to_dict(files=True) == profiled
    result.close()


def test_cli_writes_every_format_and_the_json_contract(folders, tmp_path):
    prod, ref = folders
    out = [tmp_path / f"p.{ext}" for ext in ("json", "md", "xml", "html")]
    args = ["profile", "--images", str(prod), "--reference", str(ref), "--workers", "0"]
    result = CliRunner().invoke(app, [*args, *(a for p in out for a in ("--report", str(p)))])
    assert result.exit_code == 0, result.output
    assert "25 % of these images carry EXIF orientation ≠ 1; the reference set has none" in result.output
    data = json.loads(out[0].read_text())
    assert data["schema"] == SCHEMA == "skewcheck.profile/v1"
    assert len(data["files"]) == FILES
    assert list(data)[:5] == ["schema", "skewcheck_version", "images", "reference", "thumbnail_side"]
    assert "| exif_rotated | 25 % (5) | 0 % (0) |" in out[1].read_text()
    assert '<failure message="25 % of these images carry EXIF orientation' in out[2].read_text()
    assert "Decode failures" in out[3].read_text()


def test_sample_profiles_a_seeded_subset(folders):
    prod, _ = folders
    first = profile(prod, sample=5, seed=3, workers=0).to_dict(files=True)
    again = profile(prod, sample=5, seed=3, workers=0).to_dict(files=True)
    assert first["images"]["files"] == 5
    assert first["images"]["sample"]["of"] == FILES
    assert [f["path"] for f in first["files"]] == [f["path"] for f in again["files"]]


@pytest.mark.parametrize(
    "extra",
    [
        ["--images", "/nonexistent/folder"],
        ["--images", "{prod}", "--reference", "/nonexistent/folder"],
        ["--images", "{prod}", "--report", "out.csv"],
        ["--images", "{prod}", "--sample", "lots"],
        ["--images", "{prod}", "--workers", "many"],
    ],
)
def test_bad_usage_is_one_line_and_exit_2(folders, extra):
    prod, _ = folders
    result = CliRunner().invoke(app, ["profile", *(a.format(prod=prod) for a in extra)])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("skewcheck: error: ")


def test_profile_imports_neither_tensorflow_nor_opencv(folders, tmp_path):
    prod, ref = folders
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from skewcheck.cli import app\n"
        f"result = CliRunner().invoke(app, ['profile', '--images', {str(prod)!r}, '--reference', {str(ref)!r},"
        f" '--report', {str(tmp_path / 'p.json')!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('tensorflow', 'cv2', 'keras') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
