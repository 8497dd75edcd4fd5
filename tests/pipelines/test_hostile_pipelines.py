"""Issue 10: a user pipeline cannot break the audit, decide its exit code, or steer its verdicts.

Items 2 (sys.exit), 9 (--max-tensor-mb), 10 (stderr caps), 14/15 (decode errors classified by
where the exception came from, not by its text) and 15 (os.chdir in a pipeline).
"""

from __future__ import annotations

import io
import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from tests import hostile_pipelines as hp
from tests.conftest import jpeg_bytes, photo_like, write_png

REF = "tests/hostile_pipelines.py:"


@pytest.fixture
def images(tmp_path):
    root = tmp_path / "imgs"
    for i in range(4):
        write_png(root / f"{i}.png", photo_like(i, 16))
    return root


def _statuses(report, side):
    return {r["path"]: r[side]["status"] for r in report.images}


def _png(seed: int = 1, size: int = 32) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photo_like(seed, size)).save(buf, "PNG")
    return buf.getvalue()


def _png_with_idat(transform, fix_crc: bool, seed: int = 1, size: int = 32) -> bytes:
    """A PNG whose IDAT payload is replaced by ``transform(payload)``, its checksum fixed or not."""
    data = bytearray(_png(seed, size))
    i = data.find(b"IDAT")
    n = struct.unpack(">I", data[i - 4 : i])[0]
    payload = transform(bytes(data[i + 4 : i + 4 + n]))
    crc = struct.pack(">I", zlib.crc32(b"IDAT" + payload)) if fix_crc else bytes(data[i + 4 + n : i + 8 + n])
    return bytes(data[: i - 4]) + struct.pack(">I", len(payload)) + b"IDAT" + payload + crc + bytes(data[i + 8 + n :])


def _flip_middle(payload: bytes) -> bytes:
    mid = len(payload) // 2
    return payload[:mid] + bytes([payload[mid] ^ 0x55]) + payload[mid + 1 :]


# --- item 2: sys.exit in a pipeline ---------------------------------------------------------


def test_sys_exit_in_a_pipeline_is_a_recorded_error_not_skewchecks_exit(images):
    report = skewcheck.compare(train=hp.pil, serve=hp.exits_on_odd, images=images, fail_on="never")
    serve = {r["path"]: r["serve"] for r in report.images}
    assert serve["1.png"]["status"] == "pipeline-error" and serve["1.png"]["error_type"] == "SystemExit"
    assert "sys.exit(0)" in serve["1.png"]["error"]
    assert serve["0.png"]["status"] == "ok"
    assert report.summary["pipeline_errors"]["serve"] == 2


def test_sys_exit_on_every_image_exits_3_with_a_report_via_cli(images, tmp_path, monkeypatch):
    monkeypatch.chdir(skewcheck.__path__[0] + "/..")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--train",
            REF + "exits_zero",
            "--serve",
            REF + "exits_zero",
            "--images",
            str(images),
            "--quiet",
            "--report",
            str(out),
        ],
    )
    assert result.exit_code == 3, result.output
    assert json.loads(out.read_text())["summary"]["pipeline_errors"] == {"train": 4, "serve": 4}


def test_sys_exit_while_importing_a_pipeline_is_a_usage_error(tmp_path, images):
    module = tmp_path / "exits_at_import.py"
    module.write_text("import sys\nsys.exit(0)\ndef fn(data):\n    return data\n")
    result = CliRunner().invoke(
        app, ["compare", "--train", f"{module}:fn", "--serve", f"{module}:fn", "--images", str(images), "--quiet"]
    )
    assert result.exit_code == 2
    assert "SystemExit" in result.output and "Traceback" not in result.output


def test_keyboard_interrupt_from_a_pipeline_stops_the_audit(images):
    def interrupted(data: bytes):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        skewcheck.compare(train=hp.pil, serve=interrupted, images=images)


# --- item 10: stderr caps ---------------------------------------------------------------------


def test_native_stderr_is_capped_per_image_with_a_marker(images, tmp_path):
    report = skewcheck.compare(train=hp.pil, serve=hp.noisy, images=images)
    for record in report.images:
        lines = record["serve"]["native_warnings"]
        assert len(lines) <= 21 and sum(len(x.encode()) for x in lines) <= 4096 + 200
        assert lines[-1].startswith("… ") and lines[-1].split()[1].isdigit()
    out = tmp_path / "r.json"
    from skewcheck.report import write_report

    write_report(report, out, None)
    assert out.stat().st_size < 200_000  # was 11 MB for 10 images


def test_native_stderr_is_capped_per_run():
    from skewcheck.pipelines.outcome import NativeBudget

    budget = NativeBudget(run_lines=30, run_bytes=10_000)
    first, second, third = (budget.cap([f"line {i}" for i in range(25)]) for _ in range(3))
    assert len(first) == 21 and first[-1] == "… 5 more lines"
    assert len(second) == 11 and "budget" in second[-1]
    assert third == ["… 25 more lines (this pipeline's stderr budget for the run is spent)"]


def test_a_stderr_line_saying_decode_does_not_make_a_bug_a_decode_error(images):
    report = skewcheck.compare(train=hp.pil, serve=hp.says_decode_then_key_error, images=images, fail_on="never")
    assert set(_statuses(report, "serve").values()) == {"pipeline-error"}
    assert report.summary["decode_errors"]["serve"] == 0


# --- items 14 / 15: classified by origin ------------------------------------------------------


@pytest.mark.parametrize("fn", [hp.key_error, hp.unicode_error, hp.value_error_truncated, hp.opencv_bad_resize])
def test_plain_pipeline_bugs_are_pipeline_errors_whatever_their_message(images, fn):
    report = skewcheck.compare(train=hp.pil, serve=fn, images=images, fail_on="never")
    assert set(_statuses(report, "serve").values()) == {"pipeline-error"}, report.images[0]["serve"]


def _bad_files(root):
    data = jpeg_bytes(photo_like(3, 32))
    files = {
        "truncated.jpg": data[: len(data) // 2],  # OSError: image file is truncated (PIL.ImageFile)
        "text.jpg": b"<html>404</html>",  # UnidentifiedImageError
        "garbage.jpg": data[:300] + bytes(range(256)) * 3 + data[-2:],  # OSError: cannot load this image
        "unrecognized.png": _png_with_idat(
            _flip_middle, fix_crc=False, seed=1, size=64
        ),  # unrecognized data stream contents
        "broken.png": _png_with_idat(lambda p: p[:2] + b"\xff" * 40 + p[42:], fix_crc=True),  # broken data stream
    }
    root.mkdir(parents=True, exist_ok=True)
    for name, payload in files.items():
        (root / name).write_bytes(payload)
    return files


def test_pillow_refusing_bytes_is_a_decode_error(tmp_path):
    root = tmp_path / "bad"
    _bad_files(root)
    report = skewcheck.compare(train=hp.pil, serve=hp.pil, images=root, fail_on="never")
    serve = {r["path"]: r["serve"] for r in report.images}
    assert {p: s["status"] for p, s in serve.items()} == dict.fromkeys(serve, "decode-error"), serve
    assert "unrecognized data stream contents" in serve["unrecognized.png"]["error"]
    assert serve["garbage.jpg"]["error"] == "cannot load this image"


def test_syntax_error_raised_inside_pillows_png_plugin_is_a_decode_error(images):
    report = skewcheck.compare(train=hp.pil, serve=hp.pil_syntax_error, images=images, fail_on="never")
    serve = report.images[0]["serve"]
    assert serve["status"] == "decode-error" and serve["error_type"] == "SyntaxError", serve
    assert "broken PNG file" in serve["error"]


def test_opencv_refusing_bytes_is_a_decode_error_even_when_user_code_raises(tmp_path):
    root = tmp_path / "bad"
    _bad_files(root)
    for fn in (hp.opencv_checked, hp.opencv_unchecked):
        report = skewcheck.compare(train=hp.pil, serve=fn, images=root, fail_on="never")
        statuses = _statuses(report, "serve")
        assert statuses["text.jpg"] == "decode-error", (fn, report.images)
        assert statuses["truncated.jpg"] in ("ok", "decode-error")  # OpenCV may accept it with a warning


def test_cv2_error_from_imdecode_is_a_decode_error(images):
    report = skewcheck.compare(train=hp.pil, serve=hp.opencv_empty_buffer, images=images, fail_on="never")
    serve = report.images[0]["serve"]
    assert serve["status"] == "decode-error" and serve["error_type"] == "error", serve


def test_classification_of_tensorflow_errors():
    from skewcheck.native import import_tensorflow
    from skewcheck.pipelines.outcome import classify_error

    tf = import_tensorflow()
    with pytest.raises(tf.errors.InvalidArgumentError) as decode:
        tf.io.decode_jpeg(b"not a jpeg")
    with pytest.raises(tf.errors.InvalidArgumentError) as reshape:
        tf.reshape(tf.zeros([4]), [3])
    assert classify_error(decode.value) == "decode-error"
    assert classify_error(reshape.value) == "pipeline-error"


def test_an_error_raised_from_a_decoder_error_is_a_decode_error():
    from skewcheck.pipelines.outcome import classify_error

    try:
        try:
            Image.open(io.BytesIO(b"nope"))
        except Exception as exc:
            raise ValueError("could not read the upload") from exc
    except ValueError as wrapped:
        assert classify_error(wrapped) == "decode-error"
    try:
        open("/nonexistent/file.png", "rb")
    except OSError as missing:
        assert classify_error(missing) == "pipeline-error"


# --- item 9: --max-tensor-mb ------------------------------------------------------------------


def test_a_tensor_over_max_tensor_mb_is_a_recorded_pipeline_error(images):
    report = skewcheck.compare(train=hp.pil, serve=hp.huge, images=images, max_tensor_mb=1, fail_on="never")
    serve = report.images[0]["serve"]
    assert serve["status"] == "pipeline-error" and serve["error_type"] == "TensorTooLarge"
    assert "tensor of 12.0 MiB" in serve["error"] and "exceeds --max-tensor-mb 1" in serve["error"]
    assert _statuses(report, "train") == dict.fromkeys(_statuses(report, "train"), "ok")
    ok = skewcheck.compare(train=hp.pil, serve=hp.huge, images=images, fail_on="never")
    assert _statuses(ok, "serve")["0.png"] == "ok"  # 12 MiB is under the default 512


def test_max_tensor_mb_option_on_the_cli(images, tmp_path, monkeypatch):
    monkeypatch.chdir(skewcheck.__path__[0] + "/..")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--train",
            REF + "pil",
            "--serve",
            REF + "huge",
            "--images",
            str(images),
            "--max-tensor-mb",
            "2",
            "--quiet",
            "--report",
            str(out),
            "--fail-on",
            "never",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["images"][0]["serve"]["error_type"] == "TensorTooLarge"
    bad = CliRunner().invoke(
        app,
        [
            "compare",
            "--train",
            REF + "pil",
            "--serve",
            REF + "huge",
            "--images",
            str(images),
            "--max-tensor-mb",
            "0",
            "--quiet",
        ],
    )
    assert bad.exit_code == 2 and "--max-tensor-mb" in bad.output


def test_max_tensor_mb_with_workers(images, monkeypatch):
    monkeypatch.chdir(skewcheck.__path__[0] + "/..")
    report = skewcheck.compare(
        train=REF + "pil", serve=REF + "huge", images=images, max_tensor_mb=1, workers=1, fail_on="never"
    )
    assert set(_statuses(report, "serve").values()) == {"pipeline-error"}


# --- item 15: os.chdir in a pipeline -----------------------------------------------------------


def test_a_pipeline_chdir_does_not_move_the_run_or_relative_report_paths(images, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import shutil

    shutil.copytree(images, tmp_path / "rel")
    report = skewcheck.compare(train=hp.pil, serve=hp.chdir_away, images="rel")
    assert set(_statuses(report, "serve").values()) == {"ok"}
    assert set(_statuses(report, "train").values()) == {"ok"}
    import os

    assert os.getcwd() == str(tmp_path)


# --- item 7: probe-images --from never hangs ---------------------------------------------------


def _probe_images(args, timeout=240):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "skewcheck", "probe-images", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=skewcheck.__path__[0] + "/..",
    )


def test_probe_images_from_a_folder_with_a_1x1_image_finishes(tmp_path):
    src = tmp_path / "src"
    write_png(src / "dot.png", np.full((1, 1, 3), 200, np.uint8))
    write_png(src / "thin.png", np.full((1, 300, 3), 17, np.uint8))
    result = _probe_images([str(tmp_path / "out"), "--from", str(src), "--kinds", "corrupt,truncated"])
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    corrupt = [p for p in manifest["probes"] if p["kind"] == "corrupt-jpeg-entropy"]
    assert corrupt and all("corrupted" in p["note"] for p in corrupt)


def test_probe_images_from_the_builtin_probe_set_finishes(tmp_path):
    from skewcheck.probes import builtin_probe_dir

    result = _probe_images([str(tmp_path / "out"), "--from", str(builtin_probe_dir()), "--kinds", "corrupt"])
    assert result.returncode == 0, result.stderr


def test_corrupt_entropy_on_tiny_images_is_bounded_and_keeps_markers():
    from skewcheck.probes.gen_damaged import corrupt_jpeg_entropy
    from skewcheck.probes.model import Base, GenContext

    for shape in [(1, 1), (2, 2), (1, 8), (8, 8)]:
        base = Base(name=f"b{shape}", rgb=np.full((*shape, 3), 255, np.uint8), source="test")
        for probe in corrupt_jpeg_entropy(base, GenContext(seed=0)):
            with Image.open(io.BytesIO(probe.data)) as im:
                assert im.size == (shape[1], shape[0])
