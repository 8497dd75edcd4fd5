"""Quantization is its own cause (issue 26): integer division, a cast after scaling or a bit-depth cut
is never named a ``scale`` whose repair cannot work; resamplers on two-tone documents and a plain
missing /255 are not called quantization."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

import skewcheck
from tests.conftest import REPO, photo_crops

REF = str(REPO / "tests" / "quantize_pipelines.py") + ":"


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("quant") / "photos"
    photo_crops(root, 8, 7, lambda rng: (int(rng.integers(60, 140)), int(rng.integers(60, 140))))
    return root


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two-tone pages: black strokes on white (their resized versions hold few values)."""
    root = tmp_path_factory.mktemp("quant") / "docs"
    root.mkdir()
    rng = np.random.default_rng(8)
    for i in range(8):
        im = Image.new("RGB", (int(rng.integers(120, 240)), int(rng.integers(120, 240))), "white")
        draw = ImageDraw.Draw(im)
        for _ in range(12):
            x, y = int(rng.integers(0, im.width - 20)), int(rng.integers(0, im.height - 8))
            draw.rectangle([x, y, x + int(rng.integers(5, 40)), y + int(rng.integers(2, 6))], fill="black")
        im.save(root / f"d{i:02d}.png")
    return root


def kinds(images: Path, serve: str, train: str = "train") -> list[tuple[str, str | None, str]]:
    r = skewcheck.compare(train=REF + train, serve=REF + serve, images=images, workers=0).to_dict()
    return [(f["kind"], f["side"], f["severity"]) for f in r["findings"]]


@pytest.mark.parametrize(
    ("serve", "severity"),
    # graded by damage, not by the detector: 1-2 levels move every image grossly (major without a
    # model), 16 levels do not (minor: nothing measured says more)
    [("serve_int_divide", "major"), ("serve_cast_after_scale", "major"), ("serve_four_bits", "minor")],
)
def test_quantizing_serve_sides_are_named_quantization_not_scale(photos: Path, serve: str, severity: str):
    found = kinds(photos, serve)
    assert found[0] == ("quantization", "serve", severity)
    assert "scale" not in {k for k, _, _ in found}


def test_a_bit_depth_cut_after_another_resizer_is_still_quantization(photos: Path):
    assert ("quantization", "serve") in {(k, s) for k, s, _ in kinds(photos, "serve_four_bits_cv2")}


def test_the_quantized_side_is_named(photos: Path):
    assert kinds(photos, "train", train="train_four_bits")[0][:2] == ("quantization", "train")


def test_look_alikes_are_not_quantization(photos: Path, documents: Path):
    assert "quantization" not in {k for k, _, _ in kinds(documents, "serve_nearest")}
    raw = kinds(photos, "serve_raw")
    assert raw[0][0] == "scale" and "quantization" not in {k for k, _, _ in raw}


def test_quantization_beside_a_per_channel_normalization_names_both(photos: Path):
    """Counted over all channels the caffe mean turns 16 levels into 48; counted per channel it is
    the same 16, and the normalization beside it is a cause of its own, not the rounding's."""
    found = {k for k, _, _ in kinds(photos, "serve_four_bits_caffe")}
    assert "quantization" in found
    assert found & {"normalization", "channel-order"}


def test_a_scale_beside_a_bit_cut_is_kept(photos: Path):
    found = kinds(photos, "serve_five_bits_scaled")
    assert {"quantization", "scale"} <= {k for k, _, _ in found}


def test_a_forgotten_division_by_std_is_one_normalization_finding_not_a_scale_per_image(photos: Path):
    """serve = train × (0.229, 0.224, 0.225): one global factor fits it (0.226 ×, a little other on
    each image), which read as eight 'scale' findings; it is a normalization, named once."""
    r = skewcheck.compare(
        train=REF + "train_imagenet", serve=REF + "serve_imagenet_mean_only", images=photos, workers=0
    ).to_dict()
    found = [f for f in r["findings"] if f["severity"] != "info"]
    assert [f["kind"] for f in found] == ["normalization"]
    assert found[0]["images"] == 8
    assert found[0]["evidence"]["std"] == [0.229, 0.224, 0.225]
    assert found[0]["evidence"]["std_division"] == "one fewer in serve"
