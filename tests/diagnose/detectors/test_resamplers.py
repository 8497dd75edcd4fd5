"""Resamplers outside cv2.resize / PIL / tf.image.resize (issue 26): corner-anchored warps,
align-corners bilinear (TF1, PyTorch, crop_and_resize), Pillow's reducing_gap are named; one that no
method reproduces is said to be so, with the closest; warp rounding on a correct port is no
``jpeg-decoder``."""

from __future__ import annotations

from pathlib import Path

import pytest

import skewcheck
from tests.conftest import REPO, photo_crops

REF = str(REPO / "tests" / "resampler_pipelines.py") + ":"


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """14 JPEG crops of scikit-image's photos, 80-300 px a side."""
    root = tmp_path_factory.mktemp("resamplers")
    size = lambda rng: (int(rng.integers(80, 300)), int(rng.integers(80, 300)))  # noqa: E731
    photo_crops(root, 14, 3, size, ".jpg", quality=90)
    return root


def resize_finding(jpegs: Path, serve: str, train: str = "train") -> tuple[dict, list[str]]:
    r = skewcheck.compare(train=REF + train, serve=REF + serve, images=jpegs, workers=0).to_dict()
    kinds = [f["kind"] for f in r["findings"]]
    return next((f for f in r["findings"] if f["kind"] == "resize"), {}), kinds


@pytest.mark.parametrize(
    ("serve", "named"),
    [
        ("serve_warp_affine", "opencv.warpAffine(corner-anchored)"),
        ("serve_align_corners", "align-corners bilinear"),
        ("serve_reducing_gap", "pil.bilinear(reducing_gap=2)"),
        ("serve_area", "opencv.INTER_AREA"),
    ],
)
def test_each_resampler_is_named(jpegs: Path, serve: str, named: str):
    finding, kinds = resize_finding(jpegs, serve)
    assert kinds[0] == "resize"
    assert (finding["evidence"]["train"], finding["evidence"]["serve"]) == ("pil.bilinear", named)
    assert "serve_closest" not in finding["evidence"]
    assert "jpeg-decoder" not in kinds


def test_crop_and_resize_is_align_corners_at_worst_with_its_edge_artefact_unmatched(jpegs: Path):
    finding, kinds = resize_finding(jpegs, "serve_crop_and_resize")
    assert kinds[0] == "resize"
    ev = finding["evidence"]
    assert ev["train"] == "pil.bilinear"
    # on most sizes it is align-corners bilinear; where float rounding puts the last row past
    # the image (extrapolated to 0) no method reproduces it, and the closest is still named
    assert "align-corners bilinear" in (ev["serve"], ev.get("serve_closest"))


def test_a_resampler_outside_the_catalogue_is_said_to_be_so_not_given_a_wrong_name(jpegs: Path):
    finding, _ = resize_finding(jpegs, "serve_skimage")
    ev = finding["evidence"]
    served = ev["serve"] if isinstance(ev["serve"], list) else [ev["serve"]]  # per image, where they differ
    assert any(s.startswith("none of the ") and s.endswith(" methods tried") for s in served), served
    assert ev["serve_closest"]  # the nearest method, for the reader
    assert finding["evidence"]["worst_serve_closest_leaves"] > 0.3
    assert "none of the" in finding["explanation"] and "closest" in finding["explanation"]
    assert "find that call" in finding["fix"]


def test_warp_rounding_on_a_correct_port_is_not_a_jpeg_decoder_difference(jpegs: Path):
    r = skewcheck.compare(
        train=REF + "train_warp_affine", serve=REF + "serve_warp_affine_float", images=jpegs, workers=0
    ).to_dict()
    assert "jpeg-decoder" not in {f["kind"] for f in r["findings"]}
    assert r["verdict"] == "pass"


def test_a_small_residual_no_decoder_leaves_is_not_named_jpeg_decoder(jpegs: Path):
    warped = skewcheck.compare(
        train=REF + "train_decode", serve=REF + "serve_decode_subpixel_warp", images=jpegs, workers=0
    ).to_dict()
    assert "jpeg-decoder" not in {f["kind"] for f in warped["findings"]}
    fast = skewcheck.compare(train=REF + "train_decode", serve=REF + "serve_tf_fast_idct", images=jpegs, workers=0)
    decoder = [f for f in fast.to_dict()["findings"] if f["kind"] == "jpeg-decoder"]
    assert decoder and decoder[0]["side"] == "serve"
    assert decoder[0]["evidence"]["decoder"] == "tf.io.decode_jpeg (fast integer IDCT)"


@pytest.fixture(scope="module")
def transparent_and_tagged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Cut-outs with a soft alpha edge (PNG) and JPEGs tagged ProPhoto RGB: files whose decoded
    pixels are not what either pipeline resampled (they flatten the alpha, convert to sRGB)."""
    import numpy as np
    from PIL import Image

    root = tmp_path_factory.mktemp("sources")
    photo_crops(root / "raw", 8, 5, lambda rng: (int(rng.integers(90, 200)), int(rng.integers(90, 200))))
    icc = (REPO / "skewcheck" / "data" / "icc" / "ProPhotoRGB.icc").read_bytes()
    (root / "rgba").mkdir()
    (root / "icc").mkdir()
    for path in sorted((root / "raw").iterdir()):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        h, w = rgb.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w]
        r = np.hypot((yy - h / 2) / (h / 2), (xx - w / 2) / (w / 2))
        alpha = np.clip((1.1 - r) * 400, 0, 255).astype(np.uint8)  # an opaque disc, a soft edge
        Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(root / "rgba" / path.name)
        Image.fromarray(rgb).save(root / "icc" / (path.stem + ".jpg"), quality=92, icc_profile=icc)
    return {"rgba": root / "rgba", "icc": root / "icc"}


@pytest.mark.parametrize(("family", "source"), [("rgba", "alpha over white"), ("icc", "sRGB (ICC applied)")])
def test_resize_is_named_from_the_pixels_the_pipelines_resampled(transparent_and_tagged, family, source):
    """Re-rendered from the file's raw pixels, every method missed train (named nearest, side
    train, graded info): the renders now start from the flattened / sRGB pixels train matches."""
    r = skewcheck.compare(
        train=REF + "train_flat", serve=REF + "serve_flat_box", images=transparent_and_tagged[family], workers=0
    ).to_dict()
    resize = [f for f in r["findings"] if f["kind"] == "resize"]
    assert len(resize) == 1 and resize[0]["images"] == 8
    assert (resize[0]["evidence"]["train"], resize[0]["evidence"]["serve"]) == ("pil.bilinear", "pil.box")
    assert resize[0]["evidence"]["resampled"] == source
    assert resize[0]["impact"]["diff_explained"] > 0.9  # the repair re-renders the same pixels


@pytest.mark.parametrize("family", ["rgba", "icc"])
def test_a_centre_crop_of_flattened_or_managed_pixels_is_a_crop(transparent_and_tagged, family):
    r = skewcheck.compare(
        train=REF + "train_flat", serve=REF + "serve_flat_center_crop", images=transparent_and_tagged[family], workers=0
    ).to_dict()
    counted = [f for f in r["findings"] if f["severity"] != "info"]
    assert counted[0]["kind"] == "crop" and counted[0]["images"] >= 7
    assert counted[0]["evidence"]["train"] == "squash"
    # neighbouring framings render alike on a 48-px tensor: an image may be named by one of them
    served = counted[0]["evidence"]["serve"]
    served = served if isinstance(served, list) else [served]
    assert "center-87.5%" in served and all(s.startswith("center-") for s in served)
    assert "resize" not in {f["kind"] for f in counted}


def test_torchvision_resize_and_center_crop_on_non_square_images_is_one_crop_finding(jpegs: Path):
    """The square crop of 87.5 % of the short side is neither a plain crop to the aspect nor a zoom
    of the whole image: before, one image of 14 was named; now the 13 whose aspect is not square
    within 2 % are (on the 174×172 one the two framings differ by a pixel row)."""
    r = skewcheck.compare(train=REF + "train", serve=REF + "serve_torchvision_eval", images=jpegs, workers=0).to_dict()
    crop = [f for f in r["findings"] if f["kind"] == "crop"]
    assert len(crop) == 1 and crop[0]["images"] >= 13
    assert crop[0]["evidence"]["serve"] == "center-crop-87.5%"
    assert crop[0]["evidence"]["train"] == "squash"
    assert r["findings"][0]["kind"] == "crop"
