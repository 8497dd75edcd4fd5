"""Model loading, prediction agreement across formats, load errors, and fit_to_input."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from skewcheck.errors import UsageError
from skewcheck.models import Mismatch, TensorSpec, fit_to_input, load_model

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "fixtures" / "models"


def _load_fixture_module(path: Path) -> ModuleType:
    """A fixture module by file path, without touching sys.path (the callable model, for reference outputs)."""
    spec = importlib.util.spec_from_file_location(f"_fixture_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tiny_callable = _load_fixture_module(FIX / "tiny_callable.py")

IMAGE_SPEC = TensorSpec("image", (None, 16, 16, 3), "float32")
SCORES_SPEC = TensorSpec("scores", (None, 5), "float32")
FLOAT_REFS = {
    "keras": "tiny.keras",
    "h5": "tiny.h5",
    "savedmodel": "tiny_savedmodel",
    "tflite": "tiny.tflite",
    "tflite_batch1": "tiny_batch1.tflite",
    "tflite_batch4": "tiny_batch4.tflite",
}


@pytest.fixture(scope="module")
def runners() -> dict:
    loaded = {name: load_model(str(FIX / ref), device="cpu") for name, ref in FLOAT_REFS.items()}
    loaded["uint8"] = load_model(str(FIX / "tiny_uint8.tflite"), device="cpu")
    loaded["two"] = load_model(str(FIX / "two_outputs.keras"), device="cpu")
    return loaded


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """37 images: more than one 32-image chunk, and not a multiple of it."""
    return np.random.default_rng(7).random((37, 16, 16, 3), dtype=np.float32)


def one_line_error(ref: str, **kwargs: object) -> str:
    with pytest.raises(UsageError) as err:
        load_model(ref, **kwargs)
    message = str(err.value)
    assert message and "\n" not in message and "Traceback" not in message
    return message


# --- loading and info ---------------------------------------------------------------------------


def test_import_is_lazy_and_tflite_logs_are_captured() -> None:
    """In a fresh process: importing skewcheck.models leaves TensorFlow alone, and loading a
    TFLite model prints nothing on stderr (the XNNPACK line and the deprecation warning are
    kept in info.notes or dropped)."""
    code = (
        "import json, sys\n"
        "import skewcheck.models as m\n"
        "lazy = 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        f"r = m.load_model({str(FIX / 'tiny.tflite')!r})\n"
        "print(json.dumps({'lazy': lazy, 'notes': r.info.notes, 'tf': 'tensorflow' in sys.modules}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["lazy"] is True and result["tf"] is True
    assert any("XNNPACK" in note for note in result["notes"])
    assert "XNNPACK" not in proc.stderr and "deprecated" not in proc.stderr


def test_none_means_no_model() -> None:
    assert load_model("none") is None
    assert load_model(" None ") is None


@pytest.mark.parametrize(
    "name,fmt,out_name",
    [
        ("keras", "keras", "scores"),
        ("h5", "h5", "scores"),
        ("savedmodel", "savedmodel", "output_0"),
        ("tflite", "tflite", "output_0"),
        ("tflite_batch1", "tflite", "output_0"),
        ("tflite_batch4", "tflite", "output_0"),
    ],
)
def test_float_model_info(runners: dict, name: str, fmt: str, out_name: str) -> None:
    info = runners[name].info
    assert info.format == fmt
    assert info.path == str(FIX / FLOAT_REFS[name])
    assert info.device == "cpu"
    assert info.inputs == [IMAGE_SPEC]
    assert info.outputs == [TensorSpec(out_name, (None, 5), "float32")]
    as_dict = info.to_dict()
    assert as_dict["input"] == {"shape": [None, 16, 16, 3], "dtype": "float32"}
    assert as_dict["outputs"] == [{"name": out_name, "shape": [None, 5], "dtype": "float32"}]


def test_quantized_tflite_info(runners: dict) -> None:
    info = runners["uint8"].info
    (spec,) = info.inputs
    assert (spec.name, spec.shape, spec.dtype) == ("image", (None, 16, 16, 3), "uint8")
    scale, zero_point = spec.quantization
    assert scale == pytest.approx(1 / 255, rel=1e-5) and zero_point == 0
    (out,) = info.outputs
    assert (out.shape, out.dtype, out.quantization) == ((None, 5), "uint8", (1 / 256, 0))
    assert info.to_dict()["inputs"][0]["quantization"] == {"scale": scale, "zero_point": 0}
    assert "dequantized" in " ".join(info.notes)


def test_two_outputs_in_keras_order(runners: dict, images: np.ndarray) -> None:
    runner = runners["two"]
    assert [s.name for s in runner.info.outputs] == ["scores", "boxes"]
    assert runner.info.outputs == [SCORES_SPEC, TensorSpec("boxes", (None, 4), "float32")]
    scores, boxes = runner.predict(images)
    assert scores.shape == (37, 5) and boxes.shape == (37, 4)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-6)
    assert boxes.min() > 0.0 and boxes.max() < 1.0  # sigmoid head


# --- predictions --------------------------------------------------------------------------------


def test_formats_agree(runners: dict, images: np.ndarray) -> None:
    """Same weights in five containers. Measured on this fixture: keras/h5/savedmodel 0.0,
    tflite (dynamic batch, fixed batch 1, fixed batch 4 with a padded last chunk) 6e-8."""
    reference = runners["keras"].predict(images)
    assert len(reference) == 1 and reference[0].shape == (37, 5) and reference[0].dtype == np.float32
    np.testing.assert_allclose(reference[0].sum(axis=1), 1.0, atol=1e-6)
    assert reference[0].std(axis=0).max() > 1e-3  # the images do move the scores
    for name in ("h5", "savedmodel", "tflite", "tflite_batch1", "tflite_batch4"):
        (out,) = runners[name].predict(images)
        assert out.shape == (37, 5) and out.dtype == np.float32
        diff = float(np.abs(out - reference[0]).max())
        assert diff <= 1e-6, f"{name}: max abs diff {diff}"
        assert np.array_equal(out.argmax(axis=1), reference[0].argmax(axis=1))


@pytest.mark.parametrize("name", ["keras", "savedmodel", "tflite", "tflite_batch1", "tflite_batch4"])
def test_any_batch_size(runners: dict, images: np.ndarray, name: str) -> None:
    full = runners[name].predict(images)[0]
    single = runners[name].predict(images[5:6])[0]
    three = runners[name].predict(images[:3])[0]
    np.testing.assert_allclose(single[0], full[5], atol=1e-6)
    np.testing.assert_allclose(three, full[:3], atol=1e-6)


def test_quantized_tflite_close_to_float_when_quantized_properly(runners: dict, images: np.ndarray) -> None:
    """Measured: 0.0025 max abs diff, under one output step (1/256)."""
    scale, zero_point = runners["uint8"].info.inputs[0].quantization
    quantized = np.clip(np.rint(images / scale) + zero_point, 0, 255).astype(np.uint8)
    (out,) = runners["uint8"].predict(quantized)
    assert out.dtype == np.float32 and out.shape == (37, 5)
    reference = runners["keras"].predict(images)[0]
    assert float(np.abs(out - reference).max()) <= 1 / 256


def test_float_into_quantized_model_is_cast_not_quantized(runners: dict, images: np.ndarray) -> None:
    """fit_to_input rounds [0, 1] floats to 0/1 instead of quantizing them to 0..255: the
    predictions move, which is the skew the report must show."""
    spec = runners["uint8"].info.inputs[0]
    adapted = [fit_to_input(image, spec) for image in images]
    assert all(a.mismatches[0].kind == "dtype" for a in adapted)
    batch = np.stack([a.tensor for a in adapted])
    assert batch.dtype == np.uint8 and set(np.unique(batch)) <= {0, 1}
    (out,) = runners["uint8"].predict(batch)
    reference = runners["keras"].predict(images)[0]
    assert float(np.abs(out - reference).max()) > 4 / 256


def test_predict_refuses_unadapted_batch(runners: dict, images: np.ndarray) -> None:
    with pytest.raises(ValueError, match="fit_to_input"):
        runners["keras"].predict(images.astype(np.float64))
    with pytest.raises(ValueError, match="fit_to_input"):
        runners["uint8"].predict(images)
    with pytest.raises(ValueError, match="fit_to_input"):
        runners["tflite"].predict(images[:, :8])
    with pytest.raises(ValueError, match="at least one image"):
        runners["savedmodel"].predict(images[:0])


# --- callables ----------------------------------------------------------------------------------


def test_callable_from_file(images: np.ndarray) -> None:
    runner = load_model(f"{FIX / 'tiny_callable.py'}:predict", device="cpu")
    assert runner.info.format == "callable" and runner.info.device == "unmanaged"
    assert runner.info.inputs == [TensorSpec.unknown("input")]
    assert runner.info.to_dict()["input"] == {"shape": None, "dtype": "any"}
    (out,) = runner.predict(images)
    np.testing.assert_array_equal(out, tiny_callable.predict(images))
    assert runner.info.outputs == [TensorSpec("output_0", (None, 5), "float32")]


def test_callable_from_module_with_dict_outputs(monkeypatch: pytest.MonkeyPatch, images: np.ndarray) -> None:
    monkeypatch.syspath_prepend(str(FIX))
    runner = load_model("tiny_callable:predict_dict")
    argmax, scores = runner.predict(images[:4])
    assert [s.name for s in runner.info.outputs] == ["argmax", "scores"]
    np.testing.assert_array_equal(argmax, scores.argmax(axis=1))


def test_callable_output_without_batch_axis_is_refused(images: np.ndarray) -> None:
    runner = load_model(f"{FIX / 'tiny_callable.py'}:broken")
    with pytest.raises(UsageError, match="batch axis first"):
        runner.predict(images[:2])


def test_bad_callable_refs(tmp_path: Path) -> None:
    path = FIX / "tiny_callable.py"
    assert "no attribute 'nope'" in one_line_error(f"{path}:nope")
    assert "not a function" in one_line_error(f"{path}:NOT_A_FUNCTION")
    assert "not found" in one_line_error(f"{tmp_path / 'absent.py'}:predict")
    assert "ModuleNotFoundError" in one_line_error("no_such_pkg_for_skewcheck.mod:predict")
    bad = tmp_path / "bad_model.py"
    bad.write_text("import numpy\nraise RuntimeError('weights missing\\nsecond line')\n")
    message = one_line_error(f"{bad}:predict")
    assert "RuntimeError: weights missing" in message and "second line" not in message
    assert "name the function" in one_line_error(str(path))


# --- load errors --------------------------------------------------------------------------------


def test_missing_files(tmp_path: Path) -> None:
    for name in ("absent.keras", "absent.h5", "absent.tflite"):
        message = one_line_error(str(tmp_path / name))
        assert "not found" in message and name in message
    assert "model not found" in one_line_error(str(tmp_path / "absent_dir" / "model"))


@pytest.mark.parametrize(
    "name,expected",
    [
        ("broken.keras", "not a .keras zip archive"),
        ("broken.h5", "not an HDF5 file"),
        ("broken.tflite", "not a TFLite flatbuffer"),
    ],
)
def test_corrupt_files(tmp_path: Path, name: str, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"this is not a model\n" * 10)
    assert expected in one_line_error(str(path))


def test_truncated_keras_archive(tmp_path: Path) -> None:
    """A real zip that is cut short: the loader's own error, shortened to one line."""
    data = (FIX / "tiny.keras").read_bytes()
    path = tmp_path / "truncated.keras"
    path.write_bytes(data[: len(data) // 2])
    assert str(path) in one_line_error(str(path))


def test_other_refs(tmp_path: Path) -> None:
    assert "ONNX" in one_line_error(str(tmp_path / "model.onnx"))
    assert "not a SavedModel directory" in one_line_error(str(tmp_path))
    other = tmp_path / "weights.bin"
    other.write_bytes(b"\0" * 16)
    assert "cannot tell the model format" in one_line_error(str(other))
    assert "--device" in one_line_error(str(FIX / "tiny.keras"), device="tpu")


def test_safe_mode_refuses_lambda_unless_unsafe(images: np.ndarray) -> None:
    path = str(FIX / "lambda.keras")
    assert "--unsafe-load" in one_line_error(path)
    runner = load_model(path, unsafe_load=True, device="cpu")
    (out,) = runner.predict(images[:3])
    assert out.shape == (3, 5)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)


def test_gpu_request_without_gpu() -> None:
    import tensorflow as tf  # noqa: PLC0415 (already imported by the fixtures' loads)

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("a GPU is visible here")
    assert "--device gpu" in one_line_error(str(FIX / "tiny.keras"), device="gpu")
    assert "--device gpu" in one_line_error(str(FIX / "tiny_savedmodel"), device="gpu")


def test_tflite_never_claims_gpu() -> None:
    assert "CPU only" in one_line_error(str(FIX / "tiny.tflite"), device="gpu")
    assert load_model(str(FIX / "tiny.tflite"), device="auto").info.device == "cpu"


# --- fit_to_input -------------------------------------------------------------------------------

HWC = TensorSpec("image", (None, 16, 16, 3), "float32")
CHW = TensorSpec("image", (None, 3, 16, 16), "float32")
GRAY = TensorSpec("image", (None, 16, 16, 1), "float32")


def _image(shape: tuple[int, ...], dtype: str = "float32") -> np.ndarray:
    return np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape).astype(dtype) / 1000


def test_fit_exact_is_untouched() -> None:
    image = _image((16, 16, 3))
    adapted = fit_to_input(image, HWC)
    assert adapted.tensor is image and adapted.ok
    assert adapted.notes == () and adapted.mismatches == ()


def test_fit_drops_extra_batch_axis() -> None:
    image = _image((1, 16, 16, 3))
    adapted = fit_to_input(image, HWC)
    np.testing.assert_array_equal(adapted.tensor, image[0])
    (m,) = adapted.mismatches
    assert (m.kind, m.expected, m.got) == ("layout", "(16, 16, 3)", "(1, 16, 16, 3)")
    assert "batch axis" in m.detail


def test_fit_transposes_chw_to_hwc_and_back() -> None:
    chw = _image((3, 16, 16))
    adapted = fit_to_input(chw, HWC)
    assert adapted.tensor.shape == (16, 16, 3)
    assert adapted.tensor[2, 5, 1] == chw[1, 2, 5]
    assert adapted.mismatches[0].kind == "layout" and "CHW → HWC" in adapted.mismatches[0].detail
    back = fit_to_input(adapted.tensor, CHW)
    np.testing.assert_array_equal(back.tensor, chw)
    assert "HWC → CHW" in back.mismatches[0].detail


def test_fit_adds_and_removes_channel_axis() -> None:
    gray = _image((16, 16))
    adapted = fit_to_input(gray, GRAY)
    assert adapted.tensor.shape == (16, 16, 1) and adapted.mismatches[0].kind == "layout"
    np.testing.assert_array_equal(adapted.tensor[..., 0], gray)
    flat = fit_to_input(adapted.tensor, TensorSpec("image", (None, 16, 16), "float32"))
    assert flat.tensor.shape == (16, 16) and flat.mismatches[0].kind == "layout"


def test_fit_refuses_other_sizes() -> None:
    for shape in [(15, 16, 3), (16, 16, 4), (16, 16), (2, 16, 16, 3)]:
        adapted = fit_to_input(_image(shape), HWC)
        assert adapted.tensor is None and not adapted.ok
        (m,) = adapted.mismatches
        assert m == Mismatch("shape", "(16, 16, 3)", str(tuple(shape)), m.detail)
        assert "prediction skipped" in m.detail


def test_fit_unknown_dims_match_anything() -> None:
    spec = TensorSpec("image", (None, None, None, 3), "float32")
    adapted = fit_to_input(_image((10, 20, 3)), spec)
    assert adapted.tensor.shape == (10, 20, 3) and not adapted.mismatches
    chw = fit_to_input(_image((3, 10, 20)), spec)
    assert chw.tensor.shape == (10, 20, 3) and chw.mismatches[0].expected == "(?, ?, 3)"


def test_fit_casts_float64() -> None:
    adapted = fit_to_input(_image((16, 16, 3), "float64"), HWC)
    assert adapted.tensor.dtype == np.float32
    (m,) = adapted.mismatches
    assert (m.kind, m.expected, m.got) == ("dtype", "float32", "float64")
    assert adapted.notes == ("cast float64 → float32 to fit the model input",)


def test_fit_float_into_quantized_input_rounds_and_clips() -> None:
    spec = TensorSpec("image", (None, 2, 2, 1), "uint8", quantization=(1 / 255, 0))
    image = np.array([[[1.6], [300.0]], [[-5.0], [np.nan]]], dtype=np.float32)
    adapted = fit_to_input(image, spec)
    assert adapted.tensor.dtype == np.uint8
    assert adapted.tensor[..., 0].tolist() == [[2, 255], [0, 0]]  # rounded, not truncated
    (m,) = adapted.mismatches
    assert m.kind == "dtype" and "no quantization was applied" in m.detail
    assert any("clipped to [0, 255]" in n for n in adapted.notes)
    assert any("non-finite" in n for n in adapted.notes)


def test_fit_int16_into_uint8_clips() -> None:
    spec = TensorSpec("image", (None, 3), "uint8")
    adapted = fit_to_input(np.array([-4, 7, 999], dtype=np.int16), spec)
    assert adapted.tensor.tolist() == [0, 7, 255]
    assert "clipped" in adapted.notes[0] and adapted.mismatches[0].got == "int16"


def test_fit_layout_and_dtype_together() -> None:
    image = _image((1, 3, 16, 16), "float64")
    adapted = fit_to_input(image, HWC)
    assert adapted.tensor.shape == (16, 16, 3) and adapted.tensor.dtype == np.float32
    assert [m.kind for m in adapted.mismatches] == ["layout", "dtype"]
    assert "batch axis" in adapted.mismatches[0].detail and "CHW → HWC" in adapted.mismatches[0].detail


def test_fit_unknown_spec_passes_through() -> None:
    image = _image((5, 7), "float64")
    adapted = fit_to_input(image, TensorSpec.unknown())
    assert adapted.tensor is image and adapted.notes == () and adapted.mismatches == ()
