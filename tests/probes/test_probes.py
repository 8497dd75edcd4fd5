"""Probe set: every probe's property checked through a decoder path other than the generator's.

Pillow (ImageOps.exif_transpose, ImageCms.profileToProfile) and OpenCV decode the files; the
generators' own transforms are never used to check them.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps

from skewcheck import __version__
from skewcheck.errors import UsageError
from skewcheck.probes import (
    CATEGORIES,
    EXPECTS,
    KINDS,
    MANIFEST,
    ProbeEntry,
    base_file,
    builtin_probe_dir,
    cache_root,
    load_manifest,
    select_kinds,
    write_probe_set,
    write_probes,
)


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ProbeEntry]]:
    out = tmp_path_factory.mktemp("probes")
    entries = write_probes(out)
    return out, entries


def of(probes_fixture: tuple[Path, list[ProbeEntry]], **match: str) -> list[ProbeEntry]:
    _, entries = probes_fixture
    chosen = [e for e in entries if all(getattr(e, k) == v for k, v in match.items())]
    assert chosen, f"no probe with {match}"
    return chosen


def reference(root: Path, entry: ProbeEntry) -> np.ndarray:
    assert entry.base is not None
    with Image.open(root / base_file(entry.base)) as image:
        assert image.mode == "RGB" and not image.info.get("icc_profile")
        return np.asarray(image).astype(np.int16)


def diff(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    assert a.shape == b.shape, (a.shape, b.shape)
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(d.mean()), int(d.max())


def within(decoded: np.ndarray, ref: np.ndarray, tolerance: dict[str, float] | None) -> bool:
    assert tolerance
    mean, peak = diff(decoded, ref)
    return mean <= tolerance.get("mean_abs", np.inf) and peak <= tolerance.get("max_abs", np.inf)


def pil_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def cv2_rgb(path: Path) -> np.ndarray:
    data = np.frombuffer(path.read_bytes(), np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert bgr is not None, path
    return bgr[..., ::-1]


# --- the set as a whole -----------------------------------------------------------------------


def test_manifest_and_files_agree(probes):
    root, entries = probes
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {MANIFEST}
    assert on_disk == {e.file for e in entries}
    assert load_manifest(root) == {e.file: e for e in entries}
    manifest = json.loads((root / MANIFEST).read_text())
    assert manifest["schema"] == "skewcheck.probes/v1" and manifest["source"] == "builtin"
    for e in entries:
        assert e.expect in EXPECTS and e.category in (*CATEGORIES, "base")
        assert (e.tolerance is not None) == (e.expect == "same-as-base"), e.file
        assert e.note and "\n" not in e.note
        if e.base is not None:
            assert (root / base_file(e.base)).is_file(), e.file
            assert manifest["bases"][e.base]["file"] == base_file(e.base)
        assert ProbeEntry.from_dict(json.loads(json.dumps(e.to_dict()))) == e


def test_every_kind_writes_files_and_the_set_is_small(probes):
    root, entries = probes
    assert {e.kind for e in entries} == {k.name for k in KINDS} | {"base"}
    assert len({k.name for k in KINDS}) == len(KINDS)
    total = sum((root / e.file).stat().st_size for e in entries)
    assert total < 2 * 1024 * 1024, total
    # Four bundled photos: every per-image kind once per photo.
    assert {e.base for e in of(probes, kind="clean-png")} == {"astronaut", "chelsea", "coffee", "rocket"}


def test_probe_entry_is_frozen():
    entry = ProbeEntry("a.jpg", "clean-png", "clean", "x", "same-as-base", {"max_abs": 0}, "n")
    with pytest.raises(AttributeError):
        entry.kind = "other"  # type: ignore[misc]


def test_same_output_twice_and_seed_only_moves_corruption(probes, tmp_path):
    root, entries = probes
    again = tmp_path / "again"
    write_probes(again)
    for e in entries:
        assert (again / e.file).read_bytes() == (root / e.file).read_bytes(), e.file
    assert (again / MANIFEST).read_bytes() == (root / MANIFEST).read_bytes()
    other = tmp_path / "seed1"
    write_probes(other, seed=1, kinds=["corrupt", "clean-png"])
    changed = {
        e.file for e in load_manifest(other).values() if (other / e.file).read_bytes() != (root / e.file).read_bytes()
    }
    assert changed and all(".corrupt-jpeg-entropy." in f for f in changed)


# --- same-as-base: two decoders agree with the base ----------------------------------------------

PLAIN = ("clean", "format", "sentinel", "size", "corrupt", "base")


def test_plain_probes_decode_to_base_with_pillow_and_opencv(probes):
    root, entries = probes
    checked = 0
    for e in entries:
        if e.expect != "same-as-base" or e.category not in PLAIN:
            continue
        ref = reference(root, e)
        assert within(pil_rgb(root / e.file), ref, e.tolerance), (e.file, diff(pil_rgb(root / e.file), ref))
        assert within(cv2_rgb(root / e.file), ref, e.tolerance), (e.file, diff(cv2_rgb(root / e.file), ref))
        checked += 1
    assert checked >= 60


def test_lossy_tolerances_are_tight_enough_to_catch_a_channel_swap(probes):
    root, entries = probes
    for e in entries:
        grey = e.base == "size.1x1" or (e.base or "").endswith(".gray")  # a swap cannot show
        if e.expect == "same-as-base" and e.category in PLAIN and not grey and "mean_abs" in (e.tolerance or {}):
            ref = reference(root, e)
            assert not within(pil_rgb(root / e.file)[..., ::-1], ref, e.tolerance), e.file


def test_sixteen_bit_png_holds_257_times_the_base(probes):
    root = probes[0]
    for e in of(probes, kind="png-16bit"):
        raw = cv2.imdecode(np.frombuffer((root / e.file).read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
        assert raw.dtype == np.uint16
        assert np.array_equal(raw[..., ::-1].astype(np.int64), reference(root, e).astype(np.int64) * 257)


def test_grayscale_and_cmyk_are_really_those_modes(probes):
    root = probes[0]
    for e in of(probes, kind="grayscale"):
        with Image.open(root / e.file) as image:
            assert image.mode == "L"
        ref = reference(root, e)
        assert np.array_equal(ref[..., 0], ref[..., 2])
    for e in of(probes, kind="cmyk-jpeg"):
        with Image.open(root / e.file) as image:
            assert image.mode == "CMYK"


def test_gif_first_frame_is_the_sentinel_later_frames_are_not(probes):
    root = probes[0]
    (e,) = of(probes, kind="gif-multiframe")
    with Image.open(root / e.file) as image:
        assert image.n_frames == 3
        image.seek(2)
        last = np.asarray(image.convert("RGB"))
    assert diff(last, reference(root, e))[0] > 50


def test_channel_order_sentinel_swap_moves_channel_means(probes):
    root = probes[0]
    ref = reference(root, of(probes, kind="sentinel-channel-order")[0]).astype(float)
    means = ref.reshape(-1, 3).mean(axis=0)
    assert means[0] - means[2] > 100  # a BGR read shifts red and blue by over 100 levels
    assert diff(ref[:, ::-1], ref)[0] > 50 and diff(ref[::-1], ref)[0] > 50  # not symmetric


def test_resize_sentinel_aliases_without_antialiasing(probes):
    root = probes[0]
    ref = reference(root, of(probes, kind="sentinel-resize")[0]).astype(np.uint8)
    nearest = cv2.resize(ref, (32, 32), interpolation=cv2.INTER_NEAREST)
    area = cv2.resize(ref, (32, 32), interpolation=cv2.INTER_AREA)
    assert diff(nearest, area)[0] > 20


# --- ICC: only a colour-managed decode gives the base --------------------------------------------

ICC_DESCRIPTIONS = {"icc-adobe-rgb": "Compatible with Adobe RGB (1998)", "icc-prophoto-rgb": "ProPhoto RGB"}


def icc_figures(root: Path, e: ProbeEntry) -> tuple[float, float, int]:
    with Image.open(root / e.file) as image:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
        assert ImageCms.getProfileDescription(profile).strip() == ICC_DESCRIPTIONS[e.kind]
        naive = np.asarray(image.convert("RGB"))
        managed = np.asarray(
            ImageCms.profileToProfile(image, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
        )
    ref = reference(root, e)
    return diff(naive, ref)[0], *diff(managed, ref)


@pytest.mark.parametrize("kind", sorted(ICC_DESCRIPTIONS))
def test_icc_probes_need_colour_management(probes, kind):
    root = probes[0]
    entries = of(probes, kind=kind)
    assert len(entries) == 8  # JPEG and PNG of each of the four photos
    for e in entries:
        naive, managed_mean, managed_max = icc_figures(root, e)
        assert managed_mean <= e.tolerance["mean_abs"] and managed_max <= e.tolerance.get("max_abs", 255), e.file
        assert naive > e.tolerance["mean_abs"], (e.file, naive)
        assert e.tolerance["mean_abs"] <= 5, e.file  # the bound itself stays meaningful
        if e.file.endswith(".png"):
            assert managed_mean < 0.6 and managed_max <= 4, (e.file, managed_mean, managed_max)
        assert naive > (3.5 if kind == "icc-adobe-rgb" else 12.0), (e.file, naive)


# --- EXIF orientation: only an orientation-aware decode gives the base ---------------------------


def test_exif_orientation_probes(probes):
    root = probes[0]
    for n in range(2, 9):
        for e in of(probes, kind=f"exif-orientation-{n}"):
            ref = reference(root, e)
            with Image.open(root / e.file) as image:
                assert image.getexif()[0x0112] == n
                naive = np.asarray(image.convert("RGB"))
                upright = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
            assert within(upright, ref, e.tolerance), (e.file, diff(upright, ref))
            assert naive.shape != ref.shape or not within(naive, ref, e.tolerance), e.file
            if n >= 5 and ref.shape[0] != ref.shape[1]:
                assert naive.shape[:2] == ref.shape[1::-1]
            # OpenCV's imdecode applies EXIF orientation by default (IMREAD_COLOR), recorded here.
            assert within(cv2_rgb(root / e.file), ref, e.tolerance), e.file


# --- reject / either ------------------------------------------------------------------------------


def test_truncated_and_garbage_probes_raise_in_pillow(probes, monkeypatch):
    root = probes[0]
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False)
    rejects = of(probes, expect="reject")
    assert {e.kind for e in rejects} == {
        "truncated-jpeg",
        "truncated-png",
        "empty-file",
        "text-as-jpg",
        "size-decompression-bomb",
    }
    for e in rejects:
        with pytest.raises((OSError, SyntaxError, Image.DecompressionBombError)):
            with Image.open(root / e.file) as image:
                image.load()


def test_lenient_decoders_accept_truncated_jpegs_with_a_grey_bottom(probes, monkeypatch):
    root = probes[0]
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    for base in ("astronaut", "chelsea", "coffee", "rocket"):
        grey_share = []
        for cut in ("cut10", "cut50", "cut90"):
            path = root / f"truncated/{base}.truncated-jpeg.{cut}.jpg"
            with Image.open(path) as image:
                image.load()
                pixels = np.asarray(image.convert("RGB"))
            assert pixels.shape == reference(root, of(probes, file=f"clean/{base}.clean-png.png")[0]).shape
            assert np.all(pixels[-1, -1] == 128), path  # libjpeg fills the missing MCUs with mid-grey
            grey_share.append(float(np.all(pixels == 128, axis=2).mean()))
            # OpenCV (recorded): cv2.imread accepts it with a warning and the same grey bottom ...
            from_file = cv2.imread(str(path))
            assert from_file is not None and np.array_equal(from_file[..., ::-1], pixels), path
            # ... while cv2.imdecode of the same bytes returns None in OpenCV 5.0 (4.x returned the image).
            decoded = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
            assert decoded is None or np.array_equal(decoded, from_file)
        assert grey_share[0] > grey_share[1] > grey_share[2] > 0, (base, grey_share)
        assert grey_share[0] > 0.5


def test_missing_eoi_decodes_whole_where_the_decoder_is_lenient(probes, monkeypatch):
    root = probes[0]
    for e in of(probes, kind="truncated-jpeg-no-eoi"):
        data = (root / e.file).read_bytes()
        clean_path = root / f"clean/{e.base}.clean-jpeg-q95.jpg"
        assert clean_path.read_bytes() == data + b"\xff\xd9"
        # cv2.imread: "Premature end of JPEG file" on stderr, every pixel decoded (imdecode of the
        # same bytes returns None in OpenCV 5.0: its two entry points disagree).
        from_file = cv2.imread(str(root / e.file))
        assert from_file is not None and np.array_equal(from_file[..., ::-1], cv2_rgb(clean_path))
        # Pillow decodes it whole only when told to tolerate truncation (strict, it may raise).
        monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
        assert np.array_equal(pil_rgb(root / e.file), pil_rgb(clean_path))


def test_corrupt_entropy_parses_but_differs_from_the_clean_file(probes):
    root = probes[0]
    for e in of(probes, kind="corrupt-jpeg-entropy"):
        data = (root / e.file).read_bytes()
        clean = (root / f"clean/{e.base}.clean-jpeg-q95.jpg").read_bytes()
        assert len(data) == len(clean)
        assert sum(a != b for a, b in zip(data, clean, strict=True)) == 6
        assert diff(pil_rgb(root / e.file), pil_rgb(root / f"clean/{e.base}.clean-jpeg-q95.jpg"))[0] > 0.5


def test_decompression_bomb_is_small_on_disk_and_trips_pillow(probes):
    root = probes[0]
    (e,) = of(probes, kind="size-decompression-bomb")
    data = (root / e.file).read_bytes()
    width, height = struct.unpack(">II", data[16:24])
    assert width * height > 2 * Image.MAX_IMAGE_PIXELS
    assert len(data) < 64 * 1024
    with pytest.raises(Image.DecompressionBombError):
        Image.open(root / e.file)


def test_alpha_probes_hide_rgb_under_transparency(probes):
    root = probes[0]
    for e in of(probes, kind="rgba"):
        with Image.open(root / e.file) as image:
            rgba = np.asarray(image.convert("RGBA"))
            on_white = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
        ref = reference(root, e)
        assert np.array_equal(rgba[..., :3], ref)  # dropping alpha gives the base
        assert (rgba[..., 3] == 0).mean() > 0.25 and (rgba[..., 3] == 128).any()
        assert diff(np.asarray(on_white.convert("RGB")), ref)[0] > 10
    (sentinel,) = of(probes, kind="alpha-sentinel")
    with Image.open(root / sentinel.file) as image:
        rgba = np.asarray(image)
    assert tuple(rgba[0, -1]) == (255, 0, 255, 0) and tuple(rgba[-1, 0]) == (0, 255, 0, 128)
    (pal,) = of(probes, kind="palette-transparency")
    with Image.open(root / pal.file) as image:
        assert image.mode == "P" and "transparency" in image.info
        dropped = np.asarray(image.convert("RGB"))
        alpha = np.asarray(image.convert("RGBA"))[..., 3]
    ref = reference(root, pal)
    assert np.array_equal(dropped, ref)
    assert np.array_equal(alpha == 0, (ref == (255, 0, 0)).all(axis=2))


# --- API: filters, --from, cache, output directory --------------------------------------------


def test_select_kinds_accepts_kinds_and_categories():
    names = [k.name for k in select_kinds(["icc", "exif-orientation-6"])]
    assert names == ["icc-adobe-rgb", "icc-prophoto-rgb", "exif-orientation-6"]
    with pytest.raises(UsageError, match="unknown probe kind"):
        select_kinds(["icc", "nope"])


def test_kinds_filter_writes_only_those_plus_their_bases(tmp_path):
    entries = write_probes(tmp_path / "p", kinds=["truncated-jpeg-no-eoi", "sentinel"])
    kinds = {e.kind for e in entries}
    assert kinds == {"truncated-jpeg-no-eoi", "sentinel-channel-order", "sentinel-resize", "base"}
    assert {e.base for e in entries if e.kind == "base"} == {
        "astronaut",
        "chelsea",
        "coffee",
        "rocket",
        "sentinel.channel-order",
        "sentinel.resize",
    }


def test_rewriting_a_probe_dir_replaces_the_old_set_only(tmp_path):
    out = tmp_path / "p"
    write_probes(out, kinds=["clean"])
    (out / "mine.txt").write_text("keep me")
    write_probes(out, kinds=["size-1x1"])
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert files == {"mine.txt", MANIFEST, "size/size-1x1.png", "bases/size.1x1.png"}
    assert not (out / "clean").exists()
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        write_probes(stranger)


def test_from_user_dir_uses_their_images_as_displayed(tmp_path):
    src = tmp_path / "mine"
    (src / "cats").mkdir(parents=True)
    rng = np.random.default_rng(0)
    upright = np.zeros((40, 60, 3), np.uint8)
    upright[:, :20] = (250, 10, 10)
    upright[:, 20:] = rng.integers(0, 255, (40, 40, 3))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: a viewer turns it clockwise
    Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1))).save(
        src / "cats" / "phone shot.png", exif=exif.tobytes()
    )
    Image.fromarray(np.full((900, 300, 3), 90, np.uint8)).save(src / "big.png")
    (src / "broken.jpg").write_bytes(b"not an image")
    result = write_probe_set(tmp_path / "out", source_dir=src, kinds=["clean-png", "exif-orientation-3"], max_side=300)
    assert result.skipped_sources == ["broken.jpg"]
    manifest = load_manifest(tmp_path / "out")
    assert set(manifest) >= {
        "clean/cats_phone_shot.clean-png.png",
        "clean/big.clean-png.png",
        "exif/big.exif-orientation-3.jpg",
    }
    base = np.asarray(Image.open(tmp_path / "out" / base_file("cats_phone_shot")))
    assert np.array_equal(base, upright)
    assert Image.open(tmp_path / "out" / base_file("big")).size == (100, 300)
    assert json.loads(result.manifest.read_text())["bases"]["cats_phone_shot"]["source"] == "cats/phone shot.png"


def test_from_requires_a_dir_with_images(tmp_path):
    with pytest.raises(UsageError, match="not a directory"):
        write_probes(tmp_path / "out", source_dir=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no readable images"):
        write_probes(tmp_path / "out", source_dir=tmp_path / "empty")


def test_load_manifest_without_manifest_is_empty(tmp_path):
    assert load_manifest(tmp_path) == {}


def test_builtin_probe_dir_is_cached_per_version_and_generator(tmp_path, monkeypatch):
    monkeypatch.setenv("SKEWCHECK_CACHE_DIR", str(tmp_path / "cache"))
    first = builtin_probe_dir()
    assert first.parent == tmp_path / "cache" and first.name.startswith(f"probes-{__version__}-")
    assert load_manifest(first)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]  # temp dir renamed away
    monkeypatch.setattr("skewcheck.probes.writer.write_probes", lambda *a, **k: pytest.fail("regenerated"))
    assert builtin_probe_dir() == first
    # other generator code or another Pillow under the same version: a new set, not the stale one
    monkeypatch.setattr("PIL.__version__", "0.0-other")
    monkeypatch.setattr(
        "skewcheck.probes.writer.write_probes", lambda out, **k: (out / "manifest.json").write_text("{}")
    )
    other = builtin_probe_dir()
    assert other != first and other.name.startswith(f"probes-{__version__}-")


def test_cache_root_falls_back_to_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.delenv("SKEWCHECK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "skewcheck"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "skewcheck"


def test_from_user_dir_colour_manages_tagged_images(tmp_path):
    src = tmp_path / "mine"
    src.mkdir()
    y, x = np.mgrid[0:32, 0:48]
    srgb = np.dstack([x * 5, y * 7, 255 - x * 5]).astype(np.uint8)
    adobe_path = Path(__file__).resolve().parents[2] / "skewcheck/data/icc/compatibleWithAdobeRGB1998.icc"
    adobe = ImageCms.getOpenProfile(str(adobe_path))
    stored = ImageCms.profileToProfile(Image.fromarray(srgb), ImageCms.createProfile("sRGB"), adobe, outputMode="RGB")
    stored.save(src / "tagged.png", icc_profile=adobe.tobytes())
    assert diff(np.asarray(stored), srgb)[0] > 3  # the stored pixels are not sRGB
    write_probes(tmp_path / "out", source_dir=src, kinds=["clean-png"])
    base = np.asarray(Image.open(tmp_path / "out" / base_file("tagged")))
    mean, peak = diff(base, srgb)
    assert mean < 0.5 and peak <= 10  # 8-bit Adobe RGB loses a few levels in the darkest tones
