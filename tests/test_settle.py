"""Costly searches settle (skewcheck/diagnose/settle.py): stopped after 16 images that show nothing,
kept on every image once they found something, and said so in ``summary.diagnosis.settled``."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from PIL import Image

import skewcheck
from skewcheck.diagnose import settle

P = "tests/skew_pairs.py:"
IMAGES = 20  # more than settle.SEARCHED


@pytest.fixture(scope="module")
def wide_photos(tmp_path_factory):
    """20 landscape crops of a photo: squashing and centre-cropping them frame them differently."""
    folder = tmp_path_factory.mktemp("wide")
    photo = np.asarray(skimage.data.astronaut())
    rng = np.random.default_rng(5)
    for i in range(IMAGES):
        y, x = int(rng.integers(0, 200)), int(rng.integers(0, 100))
        Image.fromarray(photo[y : y + 180, x : x + 320]).save(folder / f"{i:02d}.png")
    return folder


def test_a_search_that_finds_nothing_stops_and_the_report_says_so(wide_photos):
    report = skewcheck.compare(train=P + "reference", serve=P + "serve_opencv_resize", images=wide_photos)
    assert "crop" not in {f.kind for f in report.findings}
    assert report.summary["diagnosis"]["settled"]["crop framings"] == settle.SEARCHED


def test_a_search_that_found_something_runs_on_every_image(wide_photos):
    report = skewcheck.compare(train=P + "reference", serve=P + "serve_center_crop", images=wide_photos)
    crop = next(f for f in report.findings if f.kind == "crop")
    assert crop.images == IMAGES  # the images after the 16th were searched too
    assert crop.evidence["train"] == "squash" and crop.evidence["serve"] == "center-crop"
    assert "crop framings" not in report.summary["diagnosis"]["settled"]


def test_settling_rules():
    shared: dict = {}
    for _ in range(settle.SEARCHED - 1):
        settle.ran(shared, "s", found=False)
    assert settle.wanted(shared, "s") and settle.settled(shared) == {}
    settle.ran(shared, "s", found=False)
    assert not settle.wanted(shared, "s") and settle.settled(shared) == {"s": settle.SEARCHED}
    settle.ran(shared, "t", found=True)
    for _ in range(30):
        settle.ran(shared, "t", found=False)
    assert settle.wanted(shared, "t") and "t" not in settle.settled(shared)
