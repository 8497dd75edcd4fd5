"""Pair facts measured against what the run has settled (skewcheck/diagnose/facts.py hints_from):
once the first images have named each side's resize method, later pairs are named among those
next to their tensors, and the audit takes those names instead of naming again."""

from __future__ import annotations

import skewcheck
from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.detectors import resize
from tests.conftest import WIDE_PHOTOS as IMAGES

P = "tests/skew_pairs.py:"
NAME_SIDES, PRECOMPUTED = resize._name_sides, PairContext.precomputed


def _audit(wide_photos, monkeypatch, batch_size):
    """The report, the methods each naming chose among (None: every one), and how many pairs were
    named with their facts."""
    named, with_facts = [], []

    def counted(*args):
        named.append(args[3])
        return NAME_SIDES(*args)

    def facts_counted(ctx, detector):
        out = PRECOMPUTED(ctx, detector)
        if detector == "resize":
            with_facts.append(out is not None)
        return out

    monkeypatch.setattr(resize, "_name_sides", counted)
    monkeypatch.setattr(PairContext, "precomputed", facts_counted)
    report = skewcheck.compare(
        train=P + "reference", serve=P + "serve_opencv_resize", images=wide_photos, workers=0, batch_size=batch_size
    )
    return report, named, sum(with_facts)


def _stable(report):
    d = report.to_dict()
    d.pop("timings", None)
    d.get("line_trace", {}).pop("seconds", None)
    for image in d["images"]:
        for side in ("train", "serve"):
            image[side].pop("seconds", None)
    return d


def test_later_pairs_are_named_with_their_facts_and_the_report_is_the_same(wide_photos, monkeypatch):
    # one image at a time: each image's facts are measured after the images before it were diagnosed
    hinted, named_hinted, by_facts = _audit(wide_photos, monkeypatch, batch_size=1)
    # a chunk of them all: every pair's facts are measured before any is diagnosed, so no hints
    plain, named_plain, by_facts_plain = _audit(wide_photos, monkeypatch, batch_size=64)
    finding = next(f for f in plain.findings if f.kind == "resize")
    assert finding.images == IMAGES
    assert finding.evidence["train"] == "pil.bilinear" and finding.evidence["serve"] == "opencv.INTER_NEAREST"
    frozen = ("opencv.INTER_NEAREST", "pil.bilinear")
    assert named_plain == [None] * resize.NAMED_IMAGES + [frozen] * (IMAGES - resize.NAMED_IMAGES)
    assert by_facts_plain == 0
    assert named_hinted == named_plain  # the same namings, the last 8 of them with the facts:
    assert by_facts == IMAGES - resize.NAMED_IMAGES
    assert _stable(hinted) == _stable(plain)
