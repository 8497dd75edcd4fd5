"""Aspect-kept, right-padded inputs (issue 17 item 3): the value fit knows content from padding.

A normalization applied to the content and not to the zero padding is one ``normalization``
finding on every image, not "unexplained" or a spurious ``resize`` where the padding breaks the
affine fit. Unpadded tensors are fitted exactly as before.
"""

from __future__ import annotations

import numpy as np
import pytest

import skewcheck
from skewcheck.diagnose.measure.fit import fit_values
from skewcheck.diagnose.measure.pad_box import padding
from skewcheck.probes import write_probes

P = "tests/padded_pipelines.py:"
pytestmark = pytest.mark.usefixtures("run_from_repo")


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    root = tmp_path_factory.mktemp("pad_probes")
    write_probes(
        root, kinds=["clean-jpeg-q95", "clean-png", "exif-orientation-6", "sentinel-channel-order", "sentinel-resize"]
    )
    return root


@pytest.mark.parametrize(
    ("serve", "preset"),
    [("pad_serve_normalized", "keras.tf"), ("pad_serve_torch_normalized", "keras.torch / torchvision.imagenet")],
)
def test_normalization_on_a_right_padded_tensor_is_one_finding(probes, serve, preset):
    report = skewcheck.compare(train=P + "pad_reference", serve=P + serve, images=probes)
    kinds = [(f.kind, f.images, f.evidence) for f in report.findings]
    assert [f.kind for f in report.findings] == ["normalization"], kinds
    top = report.findings[0]
    assert top.evidence == {"train_preset": "unit", "serve_preset": preset}
    assert top.images == report.summary["compared"] - _square_unpadded(report)


def _square_unpadded(report) -> int:
    return 0  # every probe is at most twice as wide as tall: all are padded on the right


def test_identical_padded_pair_reports_nothing(probes):
    report = skewcheck.compare(train=P + "pad_reference", serve=P + "pad_reference", images=probes)
    assert report.findings == []


def test_padding_region_is_found_right_and_bottom():
    rng = np.random.default_rng(0)
    t = np.zeros((20, 30, 3))
    t[:15, :22] = rng.uniform(0, 1, (15, 22, 3))
    s = t.copy()
    s[:15, :22] = 2 * t[:15, :22] - 1
    assert padding(t, s) == (15, 22)
    fit = fit_values(t, s)
    assert fit.content == (15, 22) and fit.explained, fit
    assert np.allclose(fit.apply(t), s)


def test_unpadded_tensors_fit_as_before():
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 1, (16, 16, 3))
    t[:, -4:] = 0  # a black band on the right of a real image: 0 stays 0 under a scale
    s = t * 255
    fit = fit_values(t, s)
    assert fit.presets == ("unit", "raw") and fit.content is None
    assert padding(t, t + 0.1) is None  # a constant band that differs between the sides is content
