"""Another resize policy on a dynamic-size model (issue 17 item 4): one ``shape`` finding whose
evidence is the rule fitted from every shape pair, not one finding (or a list) per pair."""

from __future__ import annotations

import numpy as np
import pytest

import skewcheck
from skewcheck.diagnose.measure.resize_policy import fit_policy
from tests.conftest import photo_like, write_png

P = "tests/dynamic_pipelines.py:"
pytestmark = pytest.mark.usefixtures("run_from_repo")
SIZES = [(200, 100), (100, 200), (150, 100), (120, 90), (300, 100), (90, 160), (256, 192)]  # (w, h)


@pytest.fixture
def varied(tmp_path):
    root = tmp_path / "varied"
    for i, (w, h) in enumerate(SIZES):
        small = photo_like(i, 32)
        from PIL import Image

        write_png(root / f"im{i}.png", np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC)))
    return root


def test_two_resize_policies_are_one_finding_with_the_fitted_rule(varied):
    report = skewcheck.compare(train=P + "dyn_short_side", serve=P + "dyn_long_side", images=varied)
    shapes = [f for f in report.findings if f.kind == "shape"]
    assert len(shapes) == 1, [(f.kind, f.evidence) for f in report.findings]
    policy = shapes[0].evidence["policy"]
    assert policy == {
        "train": "short side to 96, aspect kept, rounded to a multiple of 32",
        "serve": "long side to 96, aspect kept, rounded to a multiple of 32",
    }, shapes[0].evidence
    assert "sizes" not in shapes[0].evidence
    assert shapes[0].images == len(SIZES)


def test_fit_policy_names_a_fixed_size():
    sizes = [[[100, 200], [64, 64], [32, 64]], [[200, 100], [64, 64], [64, 32]], [[200, 200], [64, 64], [64, 64]]]
    assert fit_policy(sizes) == {
        "train": "fixed 64×64",
        "serve": "long side to 64, aspect kept, rounded to a multiple of 32",
    }
