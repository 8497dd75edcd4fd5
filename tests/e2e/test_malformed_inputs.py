"""Issue 10 items 6 and 15: malformed user files give one line and exit 2 (or, per image, a
recorded outcome), never 'internal error' with exit 3 or a traceback."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.errors import UsageError
from tests import hostile_pipelines as hp
from tests.conftest import photo_like, write_png

REF = "tests/hostile_pipelines.py:pil"


@pytest.fixture
def images(tmp_path):
    root = tmp_path / "imgs"
    for i in range(3):
        write_png(root / f"{i}.png", photo_like(i, 16))
    return root


@pytest.fixture
def repo_cwd(monkeypatch):
    monkeypatch.chdir(skewcheck.__path__[0] + "/..")


def _cli(*args):
    result = CliRunner().invoke(app, ["compare", *args, "--quiet"])
    return result


def _assert_usage(result):
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("skewcheck: error:"), result.output
    assert "internal error" not in result.output and "Traceback" not in result.output


# --- labels and class names --------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"file,label\n0.png,\xff\xfe\n",
        "file,label\n0.png,²\n".encode(),
        b"file,label\n0.png," + b"9" * 5000 + b"\n",
        b"file,label\n0.png,1\x00\n",
    ],
    ids=["not-utf8", "superscript-two", "5000-digits", "nul"],
)
def test_malformed_labels_are_usage_errors(images, tmp_path, repo_cwd, content):
    labels = tmp_path / "labels.csv"
    labels.write_bytes(content)
    _assert_usage(_cli("--train", REF, "--serve", REF, "--images", str(images), "--labels", str(labels)))


def test_non_utf8_class_names_are_a_usage_error(images, tmp_path, repo_cwd):
    names = tmp_path / "names.txt"
    names.write_bytes(b"cat\n\xc3\x28dog\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\n0.png,cat\n")
    _assert_usage(
        _cli(
            "--train",
            REF,
            "--serve",
            REF,
            "--images",
            str(images),
            "--labels",
            str(labels),
            "--class-names",
            str(names),
        )
    )


# --- TOML specs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "steps",
    [
        '[{ op = ["decode"], library = "pil" }]',
        '[{ op = "decode", library = "pil" }, { op = "scale", factor = 1' + "0" * 400 + " }]",
        '[{ op = "decode", library = "pil" }, { op = "scale", factor = inf }]',
        '[{ op = "decode", library = ["pil"] }]',
        '[{ op = "decode", library = "pil" }, { op = "channel_order", order = [1, "a", 0] }]',
        '[{ op = "decode", library = "pil" }, { op = "resize", size = [100000000, 2], library = "tf" }]',
    ],
    ids=["op-list", "400-digits", "inf", "library-list", "order-mixed", "huge-size"],
)
def test_malformed_toml_specs_are_usage_errors(images, tmp_path, steps):
    spec = tmp_path / "p.toml"
    spec.write_text(f"[pipelines.a]\nsteps = {steps}\n")
    _assert_usage(_cli("--train", f"{spec}#a", "--serve", f"{spec}#a", "--images", str(images)))


def test_a_toml_integer_beyond_pythons_digit_limit_is_a_usage_error(images, tmp_path):
    spec = tmp_path / "p.toml"
    spec.write_text('[pipelines.a]\nsteps = [{ op = "decode", library = "pil", channels = ' + "7" * 5000 + " }]\n")
    _assert_usage(_cli("--train", f"{spec}#a", "--serve", f"{spec}#a", "--images", str(images)))


# --- probe manifest ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "manifest",
    [
        '{"probes": [null]}',
        '{"probes": null}',
        "[]",
        '{"probes": [{"file": "0.png", "kind": "k", "category": "c", "expect": ["x"]}]}',
        '{"probes": [{"file": "0.png", "kind": "k", "category": "c", "expect": "reject", "tolerance": {"max_abs": "big"}}]}',
    ],
    ids=["null-entry", "null-list", "list", "expect-list", "tolerance-text"],
)
def test_malformed_probe_manifests_are_usage_errors(images, repo_cwd, manifest):
    (images / "manifest.json").write_text(manifest)
    _assert_usage(_cli("--train", REF, "--serve", REF, "--images", str(images)))


# --- snapshots ---------------------------------------------------------------------------------


def _snapshot(tmp_path, images):
    from skewcheck.pipelines.snapshot import take_snapshot

    out = tmp_path / "golden.npz"
    take_snapshot(hp.pil, out, images=images)
    return out


def _rewrite(src, dst, change):
    """Copy the snapshot's members into a new .npz, ``change(name, bytes) -> bytes | None``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
    return dst


def _npy(array, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def _meta_npy(meta):
    return _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))


def test_snapshot_with_null_images_is_a_usage_error(images, tmp_path):
    good = _snapshot(tmp_path, images)
    with np.load(good) as npz:
        meta = json.loads(npz["__meta__"].tobytes())
    meta["images"] = None
    bad = _rewrite(good, tmp_path / "bad.npz", lambda n, d: _meta_npy(meta) if n == "__meta__.npy" else d)
    _assert_usage(_cli("--train", str(bad), "--serve", REF, "--images", str(images)))


def test_snapshot_with_a_pickled_tensor_is_a_usage_error(images, tmp_path):
    good = _snapshot(tmp_path, images)
    pickled = _npy(np.array([{"x": 1}], dtype=object), allow_pickle=True)
    bad = _rewrite(good, tmp_path / "bad.npz", lambda n, d: pickled if n == "t000000.npy" else d)
    result = _cli("--train", str(bad), "--serve", REF, "--images", str(images))
    _assert_usage(result)
    assert "pickled" in result.output


@pytest.mark.parametrize("damage", ["truncated-file", "not-a-zip", "empty"])
def test_unreadable_snapshot_files_are_usage_errors(images, tmp_path, damage):
    good = _snapshot(tmp_path, images).read_bytes()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(
        {"truncated-file": good[: len(good) // 2], "not-a-zip": b"PK\x03\x04" + b"\x00" * 100, "empty": b""}[damage]
    )
    _assert_usage(_cli("--train", str(bad), "--serve", REF, "--images", str(images)))


def test_a_corrupt_tensor_inside_a_snapshot_is_a_usage_error_naming_it(images, tmp_path):
    """zlib.error from a damaged deflate stream: found when the headers are checked up front."""
    good = _snapshot(tmp_path, images)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("t000001.npy")
    raw = bytearray(good.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 200, start + info.compress_size - 8):
        raw[i] ^= 0x5A
    bad.write_bytes(bytes(raw))
    result = _cli("--train", str(bad), "--serve", REF, "--images", str(images))
    _assert_usage(result)
    assert "t000001" in result.output


def test_snapshot_records_an_unreadable_image_instead_of_aborting(images, tmp_path, monkeypatch):
    from skewcheck.pipelines import snapshot

    real = snapshot.Path.read_bytes

    def flaky(self):
        if self.name == "1.png":
            raise OSError(5, "Input/output error")
        return real(self)

    monkeypatch.setattr(snapshot.Path, "read_bytes", flaky)
    stats = snapshot.take_snapshot(hp.pil, tmp_path / "golden.npz", images=images)
    assert stats.images == 3 and stats.ok == 2 and stats.errors == {"pipeline-error": 1}
    monkeypatch.undo()
    with np.load(tmp_path / "golden.npz") as npz:
        record = next(r for r in json.loads(npz["__meta__"].tobytes())["images"] if r["path"] == "1.png")
    assert record["error_type"] == "ImageUnreadable" and "Input/output error" in record["error"]
    replay = skewcheck.compare(train=str(tmp_path / "golden.npz"), serve=hp.pil, images=images, fail_on="never")
    assert replay.summary["images"] == 3


# --- tensors:DIR -------------------------------------------------------------------------------


def _tensor_dir(tmp_path, files):
    out = tmp_path / "t"
    out.mkdir()
    for name, data in files.items():
        (out / name).write_bytes(data)
    return out


def _bad_tensor_files():
    good = _npy(np.zeros((16, 16, 3), np.float32))
    buf = io.BytesIO()
    np.savez_compressed(buf, a=np.zeros((16, 16, 3), np.float32))
    npz = bytearray(buf.getvalue())
    for i in range(80, len(npz) - 40):
        npz[i] ^= 0x33
    return {
        "0.png.bin": b"\x00" * 4,
        "0.png.json": b'{"shape": [Infinity], "dtype": "float32"}',
        "1.png.bin": b"\x00" * 4,
        "1.png.json": json.dumps({"shape": [10**30], "dtype": ",float32"}).encode(),
        "2.png.npy": good[: len(good) // 2],
    }, {
        "0.png.npz": bytes(npz),
        "1.png.npy": _npy(np.array([1, None], dtype=object), allow_pickle=True),
        "2.png.bin": b"\x00" * 12,
        "2.png.json": b'{"shape": [1, 1, 3], "dtype": "(3,)f4"}',
    }


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("workers", [0, 1])
def test_malformed_tensor_files_are_recorded_per_image(images, tmp_path, repo_cwd, which, workers):
    folder = _tensor_dir(tmp_path, _bad_tensor_files()[which])
    report = skewcheck.compare(train=REF, serve=f"tensors:{folder}", images=images, workers=workers, fail_on="never")
    serve = {r["path"]: r["serve"] for r in report.images}
    assert {p: s["status"] for p, s in serve.items()} == dict.fromkeys(serve, "pipeline-error"), serve
    assert not any(s["error_type"] == "WorkerCrashed" for s in serve.values()), serve


def test_tensor_file_over_max_tensor_mb_is_refused_before_reading(images, tmp_path):
    folder = _tensor_dir(tmp_path, {"0.png.npy": _npy(np.zeros((600, 600, 3), np.float32))})
    report = skewcheck.compare(train=hp.pil, serve=f"tensors:{folder}", images=images, max_tensor_mb=1, fail_on="never")
    assert "exceeds --max-tensor-mb 1" in report.images[0]["serve"]["error"]


def test_readers_raise_usage_error_directly():
    from skewcheck.images.labels import read_labels
    from skewcheck.pipelines.tensors_dir import TensorFileError, parse_sidecar

    with pytest.raises(TensorFileError):
        parse_sidecar('{"shape":[Infinity],"dtype":"float32"}')
    import pathlib
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d) / "l.csv"
        p.write_text("file,label\na.png,²\n")
        with pytest.raises(UsageError):
            read_labels(p)
