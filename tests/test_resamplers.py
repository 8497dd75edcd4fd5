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
