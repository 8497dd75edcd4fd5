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


@pytest.mark.parametrize(("window", "start"), [(3, "fork"), (2048, "spawn")])
def test_the_profile_is_the_same_with_the_decode_helper(folders, profiled, monkeypatch, window, start):
    """--workers auto below a pool's CPUs: one spawned process decodes the pixel sample while this
    one reads the headers (and decodes what the helper was not sent); the same profile."""
    from skewcheck.profile import run

    monkeypatch.setattr(run, "MIN_DECODES_FOR_HELPER", 1)
    monkeypatch.setattr(run, "usable_cpus", lambda: 2)
    monkeypatch.setattr(run, "HELPER_CHUNK", 2)
    monkeypatch.setattr(run, "WINDOW", window)  # 3: this process waits on the helper, or decodes, early
    monkeypatch.setattr(run, "_helper_start", lambda: start)
    prod, ref = folders
    helped = []
    original = run._with_helper
    monkeypatch.setattr(run, "_with_helper", lambda *a: helped.append(1) or original(*a))
    result = profile(prod, ref)
    assert result.to_dict(files=True) == profiled
    result.close()
    some = profile(prod, ref, pixel_sample=5, seed=2)
    alone = profile(prod, ref, pixel_sample=5, seed=2, workers=0)
    assert some.to_dict(files=True) == alone.to_dict(files=True)
    some.close()
    alone.close()
    assert len(helped) == 4  # both sets, both runs with auto


def test_cli_writes_every_format_and_the_json_contract(folders, tmp_path):
    prod, ref = folders
    out = [tmp_path / f"p.{ext}" for ext in ("json", "md", "xml", "html")]
    args = ["profile", "--images", str(prod), "--reference", str(ref), "--workers", "0"]
    result = CliRunner().invoke(app, [*args, *(a for p in out for a in ("--report", str(p)))])
    assert result.exit_code == 0, result.output
    assert "25 % of these images carry EXIF orientation ≠ 1; the reference set has none" in result.output
    data = json.loads(out[0].read_text())
    assert data["schema"] == SCHEMA == "skewcheck.profile/v2"
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
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _tiny_jpeg(seed: int, exif: bytes | None = None) -> bytes:
    import io

    from PIL import Image

    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    pixels = rng.integers(0, 256, (12 + seed % 5, 16, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(out, "JPEG", quality=80, **({"exif": exif} if exif else {}))
    return out.getvalue()


def _broken_png() -> bytes:
    """A PNG whose headers and IEND are whole but whose IDAT is not: only a decode finds it."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[data.index(b"IDAT") + 4] ^= 0xFF  # the zlib stream's first byte
    return bytes(data)


def test_default_pixel_sample_keeps_headers_exact_and_decodes_a_sample(tmp_path):
    """600 files: every header property is counted on every file; the default pixel sample (500)
    decodes 500 of them, and the decode failures it finds are extrapolated with their interval."""
    from PIL import Image

    from skewcheck.profile.run import PIXEL_SAMPLE
    from skewcheck.profile.summarise import Z_BONFERRONI

    exif = Image.Exif()
    exif[0x0112] = 6
    kinds = []
    for i in range(600):
        kind = "exif" if i % 4 == 0 else "truncated" if i % 50 == 1 else "broken" if i % 25 == 2 else "plain"
        if kind == "broken":
            data = _broken_png()
        else:
            data = _tiny_jpeg(i, exif.tobytes() if kind == "exif" else None)
            data = data[:-40] if kind == "truncated" else data
        (tmp_path / f"{i:04d}.img").write_bytes(data)
        kinds.append(kind)
    result = profile(tmp_path, workers=0)
    data = result.to_dict(files=True)
    result.close()
    assert PIXEL_SAMPLE == 500
    files = data["files"]
    assert len(files) == 600 and [f["path"] for f in files] == [f"{i:04d}.img" for i in range(600)]
    # header properties: exact on every file, sampled or not
    traits = data["traits"]
    assert traits["exif_rotated"]["count"] == kinds.count("exif") == 150
    assert traits["truncated"]["count"] == kinds.count("truncated") == 12
    low, high = wilson(12, 600)
    assert traits["truncated"]["ci95"] == [round(low, 6), round(high, 6)]
    assert all(f["format"] == ("PNG" if k == "broken" else "JPEG") for f, k in zip(files, kinds, strict=True))
    assert all(f["status"] == ("truncated" if k == "truncated" else "ok") for f, k in zip(files, kinds, strict=True))
    assert data["numbers"]["width"]["count"] == 600
    assert data["numbers"]["jpeg_quality"]["count"] == 600 - kinds.count("broken")
    # pixels: a seeded sample of the stated size
    pixels = data["images"]["pixel_sample"]
    assert (pixels["files"], pixels["of"], pixels["share"], pixels["complete"]) == (
        500,
        600,
        round(500 / 600, 6),
        False,
    )
    sampled = [f for f in files if f["decode"] is not None]
    assert len(sampled) == 500
    assert all(f["pixels"] is None for f in files if f["decode"] is None)
    whole = [(f, k) for f, k in zip(files, kinds, strict=True) if f["decode"] is not None and k != "truncated"]
    failures = sum(k == "broken" for _, k in whole)
    assert all((f["decode"] == "corrupt") == (k == "broken") for f, k in whole)
    assert pixels["decoded"] == len(whole) and pixels["decode_failures"] == failures > 0
    ok = len(whole) - failures
    assert data["images"]["decoded"] == ok
    assert (
        data["numbers"]["brightness"]["count"]
        == ok
        == sum(f["pixels"] is not None and f["status"] == "ok" for f in files)
    )
    assert data["categories"]["decode"]["files"] == 500
    # decode failures: the headers' exactly, the decode's extrapolated from the sample
    trait = traits["decode_failure"]
    assert trait["estimated"] == {
        "header_failures": 12,
        "decoded": len(whole),
        "decode_failures": failures,
        "headers_whole": 588,
    }
    assert trait["count"] == 12 + failures
    a, q = 12 / 600, failures / len(whole)
    assert trait["share"] == round(a + (1 - a) * q, 6)
    wa, wq = wilson(12, 600, Z_BONFERRONI), wilson(failures, len(whole), Z_BONFERRONI)
    assert trait["ci95"] == [round(wa[0] + (1 - wa[0]) * wq[0], 6), round(wa[1] + (1 - wa[1]) * wq[1], 6)]
    assert trait["ci95"][0] < (12 + kinds.count("broken")) / 600 < trait["ci95"][1]  # the truth is inside
    assert data["failures"]["count"] == 12 + failures
    assert {f["found_by"] for f in data["failures"]["listed"]} == {"headers", "decode"}
    # the same files with every one decoded: the same header figures, pixels on all
    every = profile(tmp_path, workers=0, pixel_sample="all")
    full = every.to_dict()
    every.close()
    assert full["traits"]["exif_rotated"] == traits["exif_rotated"]
    assert full["traits"]["truncated"] == traits["truncated"]
    assert full["traits"]["decode_failure"]["count"] == 12 + kinds.count("broken")
    assert "estimated" not in full["traits"]["decode_failure"]
    assert full["images"]["pixel_sample"]["complete"] and full["numbers"]["brightness"][
        "count"
    ] == 600 - 12 - kinds.count("broken")


def test_large_files_are_read_by_head_and_tail(tmp_path):
    """Files over HEAD bytes: truncation from the tail, the same as the whole-file rule."""
    import io

    from PIL import Image

    from skewcheck.profile.read_image import HEAD, TAIL, read_file

    rng = np.random.default_rng(1)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)).save(out, "JPEG", quality=100)
    jpeg = out.getvalue()
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(out, "PNG")
    png = out.getvalue()
    assert len(jpeg) > HEAD and len(png) > HEAD
    cases = {
        "whole.jpg": (jpeg, "ok"),
        "trailer.jpg": (jpeg + rng.bytes(3 * TAIL), "ok"),  # a phone's appended data: not a truncation
        "cut.jpg": (jpeg[: len(jpeg) * 2 // 3], "truncated"),
        "whole.png": (png, "ok"),
        "cut.png": (png[: len(png) * 2 // 3], "truncated"),
    }
    for name, (data, status) in cases.items():
        (tmp_path / name).write_bytes(data)
        record = read_file(tmp_path / name, name)
        assert record["status"] == status, (name, record["error"])
        assert missing_end(data) == (status == "truncated") or name.endswith(".png")
        assert record["decode"] == ("ok" if status == "ok" else "truncated"), (name, record["error"])
        assert (record["pixels"] is not None) == (status == "ok")
        assert (record["width"], record["bytes"]) == ((300 if name.endswith(".jpg") else 200), len(data))
        headers_only = read_file(tmp_path / name, name, decode=False)
        assert (headers_only["status"], headers_only["decode"], headers_only["pixels"]) == (status, None, None)


def test_pixel_sample_option(folders):
    prod, _ = folders
    none = profile(prod, workers=0, pixel_sample=0).to_dict(files=True)
    assert all(f.get("pixels") is None for f in none["files"])
    assert none["traits"]["truncated"]["count"] == PRODUCTION["truncated"]
    assert none["traits"]["decode_failure"]["estimated"]["decoded"] == 0
    some = profile(prod, workers=0, pixel_sample=5, seed=1).to_dict(files=True)
    assert sum(f.get("decode") is not None for f in some["files"]) == 5
    again = profile(prod, workers=0, pixel_sample=5, seed=1).to_dict(files=True)
    assert some["files"] == again["files"]
    result = CliRunner().invoke(app, ["profile", "--images", str(prod), "--pixel-sample", "lots"])
    assert result.exit_code == 2 and "--pixel-sample must be" in result.stderr


def _jpeg_variants(folder: Path) -> Path:
    """JPEGs that exercise every header field the fast JPEG reader reads."""
    import io

    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    base = Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8))
    icc = Path(__file__).resolve().parents[2] / "skewcheck" / "data" / "icc" / "compatibleWithAdobeRGB1998.icc"
    variants: dict[str, tuple[Image.Image, dict]] = {
        "progressive": (base, {"progressive": True}),
        "gray": (base.convert("L"), {}),
        "cmyk": (base.convert("CMYK"), {}),
        "444": (base, {"subsampling": 0}),
        "422": (base, {"subsampling": 1}),
        "q5": (base, {"quality": 5}),
        "q100": (base, {"quality": 100}),
        "icc": (base, {"icc_profile": icc.read_bytes()}),
        "wide-tables": (base, {"qtables": [[300] * 64, [400] * 64]}),  # 16-bit quantization tables
    }
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x010F] = "maker"
        variants[f"exif{orientation}"] = (base, {"exif": exif.tobytes()})
    for name, (im, kw) in variants.items():
        out = io.BytesIO()
        im.save(out, "JPEG", **kw)
        (folder / f"{name}.jpg").write_bytes(out.getvalue())
    xmp = b'<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
    out = io.BytesIO()
    base.save(out, "JPEG", xmp=xmp)
    (folder / "xmp6.jpg").write_bytes(out.getvalue())
    return folder


def test_the_fast_jpeg_reader_agrees_with_pillow(folders, tmp_path, monkeypatch):
    """Every header field read by skewcheck.profile.jpeg.fast_headers equals Pillow's reading of
    the same file (the records of the header pass, with and without the fast reader)."""
    from skewcheck.profile import read_image

    prod, ref = folders
    files = [*sorted(prod.iterdir()), *sorted(ref.iterdir())[:3], *sorted(_jpeg_variants(tmp_path / "v").iterdir())]
    fast = [read_image.read_file(f, f.name, decode=False) for f in files]
    used = sum(read_image.fast_headers(f.read_bytes()[: read_image.HEAD]) is not None for f in files)
    assert used >= len(files) - 4  # the text file, the PNG, the XMP-only orientation and the truncated ones
    monkeypatch.setattr(read_image, "fast_headers", lambda head: None)
    slow = [read_image.read_file(f, f.name, decode=False) for f in files]
    for a, b in zip(fast, slow, strict=True):
        assert a == b, a["path"]
    by_name = {r["path"]: r for r in fast}
    assert [by_name[f"exif{o}.jpg"]["exif_orientation"] for o in range(1, 9)] == list(range(1, 9))
    assert by_name["xmp6.jpg"]["exif_orientation"] == 6  # read by Pillow, from XMP
    assert by_name["wide-tables.jpg"]["jpeg_quality"] is not None
    assert (by_name["progressive.jpg"]["progressive"], by_name["gray.jpg"]["mode"]) == (True, "L")
    assert (by_name["444.jpg"]["subsampling"], by_name["422.jpg"]["subsampling"]) == ("4:4:4", "4:2:2")
