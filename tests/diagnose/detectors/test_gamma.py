"""A transfer curve on one side (sRGB linearized, a gamma) is named ``gamma`` with its curve, its
fitted γ and the side that applies it; ports, resizers, scales, normalizations and roundings are
not (issue 25 item 2, issue 26)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import skewcheck
from tests.conftest import REPO, photo_crops

REF = str(REPO / "tests" / "gamma_pipelines.py") + ":"


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gamma") / "photos"
    photo_crops(root, 6, 11, lambda rng: (int(rng.integers(60, 140)), int(rng.integers(60, 140))))
    return root


def findings(images: Path, serve: str, train: str = "train") -> list[dict[str, Any]]:
    r = skewcheck.compare(train=REF + train, serve=REF + serve, images=images, workers=0).to_dict()
    return [f for f in r["findings"] if f["severity"] != "info"]


def _values(x: Any) -> list[float]:
    """An evidence number merged over images: one value, the distinct ones (a list), or past a few
    distinct ones their distribution (its min and max)."""
    if isinstance(x, dict):
        return [x["min"], x["max"]]
    return list(x) if isinstance(x, list) else [x]


@pytest.mark.parametrize(
    ("serve", "train", "curve", "gamma", "tolerance"),
    [
        ("serve_linearized", "train", "srgb-to-linear", 2.25, 0.1),  # the sRGB curve is a power ≈ 2.2-2.3
        ("serve_adjust_gamma", "train", "power", 2.2, 0.05),
        ("serve_cv2_gamma_lut", "train", "power", 1 / 2.2, 0.03),
        ("serve_linearized_torch", "train_torch", "srgb-to-linear", 2.25, 0.1),
    ],
)
def test_a_curve_on_serve_is_named_gamma_first_with_its_curve_and_side(
    photos: Path, serve: str, train: str, curve: str, gamma: float, tolerance: float
):
    found = findings(photos, serve, train)
    first = found[0]
    assert (first["kind"], first["side"]) == ("gamma", "serve")
    assert first["images"] == 6
    assert first["evidence"]["curve"] == curve
    fitted = _values(first["evidence"]["gamma"])
    assert fitted == pytest.approx([gamma] * len(fitted), abs=tolerance)
    left, affine = _values(first["evidence"]["residual_curve"]), _values(first["evidence"]["residual_affine"])
    assert max(left) <= 0.35 * min(affine)
    assert first["impact"] is not None
    # the curve is the whole story: no resize, no unexplained residual beside it
    assert {f["kind"] for f in found} == {"gamma"}


def test_the_side_that_linearizes_is_named_when_it_is_train(photos: Path):
    found = findings(photos, "train", train="train_linearized")
    assert (found[0]["kind"], found[0]["side"]) == ("gamma", "train")
    assert found[0]["evidence"]["curve"] == "linear-to-srgb"  # serve = the inverse curve of train


@pytest.mark.parametrize(
    ("serve", "expected"),
    [
        ("serve_numpy_port", set()),  # the same numbers by other code
        ("serve_cv2_resize", None),  # another resizer: whatever it is named, not gamma
        ("serve_raw", {"scale"}),
        ("serve_torch", {"normalization"}),
        ("serve_five_bits", {"quantization"}),
    ],
)
def test_look_alikes_are_not_gamma(photos: Path, serve: str, expected: set[str] | None):
    kinds = {f["kind"] for f in findings(photos, serve)}
    assert "gamma" not in kinds
    if expected is not None:
        assert kinds == expected
