"""Callable pipeline references, exactly as DESIGN.md specifies them."""

from __future__ import annotations

import numpy as np
import pytest

from skewcheck.errors import UsageError
from skewcheck.pipelines import load_pipeline
from tests.conftest import jpeg_bytes, photo_like, write_png

REF = "tests/pipelines_for_tests.py:"


pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


def test_file_reference_receives_bytes_and_keeps_dtype(tmp_path):
    img = write_png(tmp_path / "x.png", photo_like(1))
    out = load_pipeline(REF + "pil_raw").run(img)
    assert out.status == "ok" and out.tensor.dtype == np.uint8 and out.tensor.shape == (24, 24, 3)
    assert np.array_equal(out.tensor, photo_like(1))
    f64 = load_pipeline(REF + "pil_unit_float64").run(img)
    assert f64.tensor.dtype == np.float64  # never silently cast


def test_module_reference_and_path_annotation_with_batch_axis(tmp_path):
    img = write_png(tmp_path / "x.png", photo_like(2))
    p = load_pipeline("tests.pipelines_for_tests:pil_unit_batched")
    assert "path" in p.description
    out = p.run(img)
    assert out.tensor.shape == (24, 24, 3)
    assert out.notes and "batch axis" in out.notes[0]


def test_tf_tensor_result_is_converted(tmp_path):
    img = write_png(tmp_path / "x.png", photo_like(3))
    out = load_pipeline(REF + "tf_unit").run(img)
    assert isinstance(out.tensor, np.ndarray) and out.tensor.dtype == np.float32
    assert np.allclose(out.tensor * 255, photo_like(3), atol=1e-3)


def test_exception_becomes_outcome_with_native_decoder_warning(tmp_path):
    data = jpeg_bytes(photo_like(4, 256))
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(data[: int(len(data) * 0.6)])
    pil = load_pipeline(REF + "pil_unit").run(truncated)
    assert pil.status == "decode-error" and pil.error_type == "OSError"
    assert "truncated" in pil.error
    lenient = load_pipeline(REF + "tf_lenient_unit").run(truncated)
    # libjpeg accepts the cut file when asked to recover, writing its warning to fd 2: it is kept
    assert lenient.status == "ok" and lenient.tensor.shape == (256, 256, 3)
    assert any("Premature end of JPEG file" in w for w in lenient.native_warnings), lenient.native_warnings


def test_garbage_file_is_a_decode_error(tmp_path):
    junk = tmp_path / "junk.jpg"
    junk.write_text("not an image")
    out = load_pipeline(REF + "pil_unit").run(junk)
    assert out.status == "decode-error" and out.error_type == "UnidentifiedImageError"


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("nope", "not of the form"),
        ("missing_file.py:fn", "file not found"),
        ("tests/pipelines_for_tests.py:nope", "has no attribute 'nope'"),
        ("no_such_package_xyz.mod:fn", "cannot import"),
    ],
)
def test_bad_references_are_usage_errors(ref, fragment):
    with pytest.raises(UsageError, match=fragment):
        load_pipeline(ref, what="--serve")


def test_one_pipelines_global_decoder_switch_does_not_leak_into_the_other(tmp_path):
    """In production the sides run in separate processes; a global Pillow flag must stay on its side."""
    from PIL import ImageFile

    import skewcheck

    images = tmp_path / "imgs"
    write_png(images / "a_ok.png", photo_like(5))
    data = jpeg_bytes(photo_like(6, 128))
    (images / "b_cut.jpg").write_bytes(data[: len(data) // 2])
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "lenient_global", images=images)
    cut = next(i for i in report.images if i["path"] == "b_cut.jpg")
    assert cut["train"]["status"] == "decode-error" and cut["serve"]["status"] == "ok"
    assert [f.kind for f in report.findings] == ["decode-tolerance"]
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # and the caller's process is left as it was
