"""Costly searches settle (skewcheck/diagnose/settle.py): stopped after 16 images that show nothing,
kept on every image once they found something, and said so in ``summary.diagnosis.settled``."""

from __future__ import annotations

import skewcheck
from skewcheck.diagnose import settle
from skewcheck.diagnose.run_state import FitFirst, RunState
from tests.conftest import WIDE_PHOTOS as IMAGES

P = "tests/skew_pairs.py:"


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
    shared = RunState()
    for _ in range(settle.SEARCHED - 1):
        settle.ran(shared, "s", found=False)
    assert settle.wanted(shared, "s") and settle.settled(shared) == {}
    settle.ran(shared, "s", found=False)
    assert not settle.wanted(shared, "s") and settle.settled(shared) == {"s": settle.SEARCHED}
    settle.ran(shared, "t", found=True)
    for _ in range(30):
        settle.ran(shared, "t", found=False)
    assert settle.wanted(shared, "t") and "t" not in settle.settled(shared)


def test_fits_narrowed_on_the_first_images_are_in_the_report(wide_photos):
    report = skewcheck.compare(train=P + "reference", serve=P + "serve_opencv_resize", images=wide_photos)
    narrowed = report.summary["diagnosis"]["narrowed"]
    # the resize methods were named among every candidate on the first 12 images, then among those they named
    assert narrowed["resize methods"] == {"images": 12, "kept": ["opencv.INTER_NEAREST", "pil.bilinear"]}
    assert report.to_dict()["summary"]["diagnosis"]["narrowed"] == narrowed  # plain JSON values


def test_fit_first_rules():
    fitting = FitFirst("x", 3)
    every = ("a", "b", "c")
    assert fitting.candidates(every) == every and fitting.choice is None
    for choice in ("b", "a", "b"):
        fitting.chose(choice)
    fitting.chose("a")  # after the third image: ignored
    assert fitting.fitted and fitting.seen == ["b", "a", "b"]
    assert fitting.candidates(every) == ("b",) and fitting.kept == "b"
    tie = FitFirst("y", 2)
    tie.chose("c"), tie.chose("a")
    assert tie.choice == "c"  # a tie goes to the first chosen, in every process
