"""Every detector of the compare issue on tensors built with a known skew (a table, as in sqlfluff)."""

from __future__ import annotations

import numpy as np
import pytest

from skewcheck.diagnose import diagnose
from skewcheck.diagnose.context import PairContext
from skewcheck.findings import Severity
from skewcheck.pipelines.outcome import Outcome
from skewcheck.presets import PRESETS
from tests.conftest import photo_like

RAW = photo_like(7, 32)
UNIT = (RAW / 255).astype(np.float32)


def observe(train, serve, **kw):
    def outcome(x):
        return x if isinstance(x, Outcome) else Outcome("ok", np.asarray(x))

    return diagnose(PairContext("img.png", outcome(train), outcome(serve), **kw))


def kinds(observations):
    return [o.kind for o in observations]


def test_identical_pair_reports_nothing():
    assert observe(UNIT, UNIT.copy()) == []


def test_equivalent_dtype_free_float_noise_reports_nothing():
    assert observe(UNIT, UNIT + np.float32(1e-7)) == []


def test_scale_255_fitted():
    obs = observe(UNIT, RAW)
    scale = next(o for o in obs if o.kind == "scale")
    assert scale.evidence["k"] == pytest.approx(255.0, rel=1e-4)
    assert scale.evidence["k_named"] == "255"
    assert scale.severity == Severity.CRITICAL and scale.side == "unknown"  # no model range, no labels
    assert "dtype" in kinds(obs)  # uint8 vs float32 is reported too


def test_scale_inverse_and_unnamed_factor():
    inv = next(o for o in observe(RAW.astype(np.float32), UNIT) if o.kind == "scale")
    assert inv.evidence["k"] == pytest.approx(1 / 255, rel=1e-4)
    odd = next(o for o in observe(UNIT, UNIT * np.float32(3.3)) if o.kind == "scale")
    assert odd.evidence["k"] == pytest.approx(3.3, rel=1e-4) and "k_named" not in odd.evidence
    assert odd.severity == Severity.MAJOR


def test_channel_order_permutation():
    obs = observe(UNIT, UNIT[..., ::-1].copy())
    assert kinds(obs) == ["channel-order"]
    assert obs[0].evidence["permutation"] == [2, 1, 0]


def test_channel_order_with_scale_reports_both():
    obs = observe(UNIT, RAW[..., ::-1].astype(np.float32))
    assert set(kinds(obs)) == {"scale", "channel-order"}


@pytest.mark.parametrize(
    ("train_preset", "serve_preset", "expected"),
    [
        ("unit", "keras.caffe", ("unit", "keras.caffe")),
        ("keras.torch", "keras.tf", ("keras.torch / torchvision.imagenet", "keras.tf")),
        ("keras.tf", "unit", ("keras.tf", "unit")),
        ("keras.caffe", "keras.torch", ("keras.caffe", "keras.torch / torchvision.imagenet")),
    ],
)
def test_normalization_names_presets(train_preset, serve_preset, expected):
    t = PRESETS[train_preset].apply(RAW).astype(np.float32)
    s = PRESETS[serve_preset].apply(RAW).astype(np.float32)
    obs = observe(t, s)
    assert kinds(obs) == ["normalization"]
    assert (obs[0].evidence["train_preset"], obs[0].evidence["serve_preset"]) == expected


def test_caffe_constants_are_keras_exact():
    caffe = PRESETS["keras.caffe"].apply(np.array([[[10, 20, 30]]], np.uint8))
    assert caffe[0, 0].tolist() == pytest.approx([30 - 103.939, 20 - 116.779, 10 - 123.68])


def test_unknown_affine_normalization_fitted():
    obs = observe(UNIT, (UNIT - np.float32(0.5)) / np.float32(0.25))
    assert kinds(obs) == ["normalization"]
    assert obs[0].evidence["slope"] == [pytest.approx(4.0, rel=1e-3)]
    assert obs[0].evidence["offset"] == [pytest.approx(-2.0, rel=1e-3)]


def test_dtype_float64_against_model_signature():
    obs = observe(UNIT, UNIT.astype(np.float64), model_dtype="float32")
    assert kinds(obs) == ["dtype"]
    assert obs[0].evidence == {"train": "float32", "serve": "float64", "model": "float32"}
    assert obs[0].severity == Severity.MAJOR


def test_layout_chw_and_shape():
    chw = observe(UNIT, np.transpose(UNIT, (2, 0, 1)))
    assert kinds(chw) == ["layout"] and chw[0].evidence["move"] == "CHW-vs-HWC"
    # layout aligned, then the values still get diagnosed: CHW and BGR at once
    both = observe(UNIT, np.transpose(UNIT[..., ::-1], (2, 0, 1)))
    assert set(kinds(both)) == {"layout", "channel-order"}
    other = observe(UNIT, UNIT[:16])
    assert kinds(other) == ["shape"] and other[0].evidence == {"train": [32, 32, 3], "serve": [16, 32, 3]}


def test_decode_tolerance_names_the_side_from_the_probe():
    class Probe:
        kind, expect = "truncated-jpeg", "reject"

    rejected = Outcome("decode-error", error_type="OSError", error="image file is truncated")
    obs = observe(UNIT, rejected, probe=Probe())
    assert kinds(obs) == ["decode-tolerance"]
    assert obs[0].side == "train" and obs[0].evidence["accepts"] == "train"
    assert observe(UNIT, rejected)[0].side is None  # no probe: cannot tell who is wrong


def test_pipeline_error():
    failed = Outcome("pipeline-error", error_type="KeyError", error="'mode'")
    obs = observe(UNIT, failed)
    assert kinds(obs) == ["pipeline-error"] and obs[0].side == "serve"


def test_prediction_only_when_nothing_else_explains():
    from skewcheck.comparison.metrics import compare_class_scores

    flip = compare_class_scores(np.array([0.9, 0.1]), np.array([0.4, 0.6]))
    obs = observe(UNIT, UNIT, prediction=flip)
    assert kinds(obs) == ["prediction"]
    assert observe(UNIT, RAW, prediction=flip)[-1].kind != "prediction"
