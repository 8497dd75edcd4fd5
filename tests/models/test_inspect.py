"""inspect: signatures and baked-in preprocessing; the model-range lint in compare; ONNX runner."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from skewcheck.api import compare
from skewcheck.cli import app
from skewcheck.errors import UsageError
from skewcheck.models.inspect import inspect_model
from tests.conftest import photo_like, write_png

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "models"
runner = CliRunner()


def unit(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def raw_float(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32)


def raw_uint8(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def quantized_uint8(data: bytes) -> np.ndarray:
    """What a correct client of tiny_uint8.tflite does: x in [0, 1], then q = round(x / scale) + zp."""
    scale, zero_point = 0.00392156420275569, 0
    return np.clip(np.round(unit(data) / scale) + zero_point, 0, 255).astype(np.uint8)


@pytest.fixture
def images16(tmp_path: Path) -> Path:
    root = tmp_path / "img16"
    for i in range(4):
        write_png(root / f"{i}.png", photo_like(i, size=16))
    return root


def test_rescaling_model() -> None:
    r = inspect_model(str(FIX / "preproc_rescaling.keras"))
    assert r.format == "keras"
    (inp,) = r.inputs
    assert (inp.name, inp.shape, inp.dtype, inp.quantization) == ("image", (None, 16, 16, 3), "float32", None)
    assert [(o.name, o.shape, o.dtype) for o in r.outputs] == [("scores", (None, 5), "float32")]
    (step,) = r.preprocessing
    assert (step.layer, step.kind) == ("rescale", "rescaling")
    assert step.params["scale"] == pytest.approx(1 / 255) and step.params["offset"] == 0.0
    e = r.expected
    assert (e.dtype, e.range, e.quantization) == ("float32", (0.0, 255.0), None)
    assert e.inside(0, 255) == pytest.approx((0.0, 1.0))
    assert e.text == "expects float32 in [0, 255]; Rescaling(scale=0.00392157, offset=0) inside"


def test_resizing_crop_normalization_model() -> None:
    r = inspect_model(str(FIX / "preproc_stack.keras"))
    assert r.inputs[0].shape == (None, 24, 24, 3)
    assert [s.kind for s in r.preprocessing] == ["resizing", "center-crop", "normalization"]
    resize, crop, norm = (s.params for s in r.preprocessing)
    assert (resize["height"], resize["width"], resize["interpolation"]) == (20, 20, "bilinear")
    assert (crop["height"], crop["width"]) == (16, 16)
    assert norm["mean"] == pytest.approx([0.485, 0.456, 0.406], abs=1e-6)
    assert norm["variance"] == pytest.approx([0.229**2, 0.224**2, 0.225**2], abs=1e-6)
    assert r.expected.range == (0.0, 1.0)  # torchvision-style constants: the model wants [0, 1]
    lo, hi = r.expected.inside(0, 1)
    assert -2.2 < lo < -1.9 and 2.4 < hi < 2.7


def test_keras_applications_preprocess_input_is_recognised() -> None:
    r = inspect_model(str(FIX / "preproc_caffe.keras"))
    assert [s.kind for s in r.preprocessing] == ["channel-flip", "arithmetic"]
    assert r.preprocessing[0].params["perm"] == [2, 1, 0]
    assert r.preprocessing[1].params["constant"] == pytest.approx([-103.939, -116.779, -123.68], abs=1e-3)
    assert r.expected.preset == "caffe"
    assert r.expected.range == (0.0, 255.0)


@pytest.mark.parametrize(
    ("name", "dtype", "scale", "zero_point", "rng", "sees"),
    [
        ("tiny_uint8.tflite", "uint8", 1 / 255, 0, (0.0, 255.0), (0.0, 1.0)),
        ("preproc_int8.tflite", "int8", 1.0, -128, (-128.0, 127.0), (0.0, 255.0)),
    ],
)
def test_quantized_tflite(name: str, dtype: str, scale: float, zero_point: int, rng: tuple, sees: tuple) -> None:
    r = inspect_model(str(FIX / name))
    (inp,) = r.inputs
    assert inp.dtype == dtype
    assert inp.quantization[0] == pytest.approx(scale, rel=1e-3) and inp.quantization[1] == zero_point
    assert r.expected.range == rng and r.expected.dtype == dtype
    assert r.expected.inside(*rng) == pytest.approx(sees, rel=1e-3, abs=1e-3)
    assert r.preprocessing == []


def test_model_without_preprocessing_has_no_expectation() -> None:
    r = inspect_model(str(FIX / "tiny.keras"))
    assert r.preprocessing == [] and r.expected is None
    assert "no preprocessing layer" in r.notes[0]


def test_cli_inspect_json_and_text() -> None:
    result = runner.invoke(app, ["inspect", str(FIX / "preproc_rescaling.keras"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["inputs"] == [{"name": "image", "shape": [None, 16, 16, 3], "dtype": "float32"}]
    assert data["preprocessing"][0]["kind"] == "rescaling"
    assert data["expected_input"]["range"] == [0.0, 255.0]
    assert data["expected_input"]["network_sees"] == [0.0, 1.0]
    text = runner.invoke(app, ["inspect", str(FIX / "tiny_uint8.tflite")])
    assert text.exit_code == 0
    assert "quantized: scale=0.00392156, zero_point=0" in text.output
    assert "expected input: expects uint8 in [0, 255]" in text.output
    missing = runner.invoke(app, ["inspect", "absent.keras"])
    assert missing.exit_code == 2 and len(missing.output.strip().splitlines()) == 1


def scale_findings(report) -> list:  # type: ignore[no-untyped-def]
    return [f for f in report.findings if f.kind == "scale"]


def test_double_normalization_on_both_sides(images16: Path) -> None:
    """Both pipelines divide by 255 and so does the model's Rescaling layer: agree, yet wrong."""
    report = compare(model=str(FIX / "preproc_rescaling.keras"), train=unit, serve=unit, images=images16)
    (f,) = scale_findings(report)
    assert (f.side, f.severity.label, f.images) == ("both", "critical", 4)
    assert f.evidence["expected_range"] == [0, 255] and f.evidence["got_range"] == [0, 1]
    assert f.evidence["model_layer"] == "Rescaling(scale=0.00392157, offset=0)"
    assert f.evidence["network_sees"] == [0.0, 0.00392]
    assert report.exit_code == 1


def test_model_names_the_wrong_side(images16: Path) -> None:
    """Train feeds [0, 255] as the model wants, serve divides by 255: one finding, on serve,
    replacing the pairwise one (which could not tell which side was right)."""
    report = compare(model=str(FIX / "preproc_rescaling.keras"), train=raw_float, serve=unit, images=images16)
    (f,) = scale_findings(report)
    assert f.side == "serve" and "model_layer" in f.evidence
    assert "remove the extra scaling" in f.fix
    ok = compare(model=str(FIX / "preproc_rescaling.keras"), train=raw_float, serve=raw_float, images=images16)
    assert scale_findings(ok) == [] and ok.exit_code == 0


def test_raw_uint8_into_a_model_expecting_unit_range(tmp_path: Path) -> None:
    root = tmp_path / "img24"
    for i in range(3):
        write_png(root / f"{i}.png", photo_like(i, size=24))
    report = compare(model=str(FIX / "preproc_stack.keras"), train=unit, serve=raw_uint8, images=root)
    (f,) = scale_findings(report)
    assert f.side == "serve" and f.evidence["expected_range"] == [0, 1] and f.evidence["got_range"] == [0, 255]


def test_quantized_tflite_fed_floats_vs_quantized_correctly(images16: Path) -> None:
    model = str(FIX / "tiny_uint8.tflite")
    bad = compare(model=model, train=unit, serve=unit, images=images16)
    (f,) = scale_findings(bad)
    assert f.side == "both" and f.evidence["model_layer"].startswith("quantized input (scale=0.00392156")
    assert "q = round(x / 0.00392156)" in f.fix
    good = compare(model=model, train=quantized_uint8, serve=quantized_uint8, images=images16)
    assert good.findings == [] and good.exit_code == 0
    assert good.to_dict()["summary"]["model_errors"] == {"train": 0, "serve": 0}


def test_onnx_runner_matches_numpy(images16: Path) -> None:
    pytest.importorskip("onnxruntime")
    from skewcheck.models import load_model

    r = load_model(str(FIX / "tiny.onnx"), device="cpu")
    assert r.info.format == "onnx"
    assert (r.info.inputs[0].shape, r.info.inputs[0].dtype) == ((None, 16, 16, 3), "float32")
    assert (r.info.outputs[0].shape, r.info.outputs[0].dtype) == ((None, 5), "float32")
    batch = np.stack([photo_like(i, 16).astype(np.float32) / 255 for i in range(3)])
    (scores,) = r.predict(batch)
    import onnx
    from onnx import numpy_helper

    init = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(FIX / "tiny.onnx")).graph.initializer}
    logits = batch.mean(axis=(1, 2)) @ init["W"] + init["B"]
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(scores, expected / expected.sum(1, keepdims=True), rtol=1e-5, atol=1e-6)
    report = compare(model=str(FIX / "tiny.onnx"), train=unit, serve=raw_float, images=images16)
    assert report.to_dict()["summary"]["predicted"] == 4 and report.findings[0].kind == "scale"


def test_missing_onnx_extra_is_a_one_line_usage_error(monkeypatch: pytest.MonkeyPatch, images16: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the extra were not installed
    with pytest.raises(UsageError, match=r"pip install 'skewcheck\[onnx\]'"):
        inspect_model(str(FIX / "tiny.onnx"))
    message = "skewcheck: error: ONNX models need the optional extra: pip install 'skewcheck[onnx]'"
    result = runner.invoke(app, ["inspect", str(FIX / "tiny.onnx")])
    assert (result.exit_code, result.output.strip()) == (2, message)
    pipe = f"{Path(__file__).parents[1] / 'pipelines_for_tests.py'}:pil_unit"
    args = ["compare", "--model", str(FIX / "tiny.onnx"), "--train", pipe, "--serve", pipe, "--images", str(images16)]
    result = runner.invoke(app, args)
    assert (result.exit_code, result.output.strip()) == (2, message)
