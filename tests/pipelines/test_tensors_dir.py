"""tensors:DIR — tensors dumped by a non-Python service, compared against the training pipeline."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skewcheck.api import compare
from skewcheck.errors import UsageError
from skewcheck.pipelines import load_pipeline
from tests.conftest import REPO

UNIT = f"{REPO / 'tests/pipelines_for_tests.py'}:pil_unit"


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def dump_raw(
    out: Path, values: list[float] | bytes, shape: list[int], dtype: str, fmt: str = "<", order: str | None = None
) -> None:
    """What a Java/C++ service writes: packed bytes (no NumPy) plus a JSON sidecar."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(values, bytes):
        data = values
    else:
        code = {"float32": "f", "uint8": "B"}[dtype]
        data = struct.pack(f"{fmt}{len(values)}{code}", *values)
    Path(f"{out}.bin").write_bytes(data)
    spec: dict[str, object] = {"shape": shape, "dtype": dtype}
    if order is not None:
        spec["byte_order"] = order
    Path(f"{out}.json").write_text(json.dumps(spec))


def foreign_dump(images: Path, out: Path) -> None:
    """Decode, scale by 1/255 in float32, write little-endian floats with struct, HWC order."""
    for path in sorted(images.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(images).as_posix()
        try:
            arr = pixels(path)
        except Exception as exc:  # the service logs its own failures next to the tensors
            (out / f"{rel}.error").parent.mkdir(parents=True, exist_ok=True)
            (out / f"{rel}.error").write_text(f"cannot identify image file: {exc}\n")
            continue
        floats = [float(np.float32(v) / np.float32(255.0)) for v in arr.reshape(-1).tolist()]
        dump_raw(out / rel, floats, list(arr.shape), "float32")


def test_raw_bin_json_dump_matches_training(image_dir: Path, tmp_path: Path) -> None:
    dump = tmp_path / "java-dump"
    foreign_dump(image_dir, dump)
    assert (dump / "a" / "img0.png.bin").stat().st_size == 24 * 24 * 3 * 4
    report = compare(train=UNIT, serve=f"tensors:{dump}", images=image_dir)
    data = report.to_dict()
    assert report.exit_code == 0, data["findings"]
    assert data["findings"] == []
    assert data["summary"]["compared"] == 6
    assert data["summary"]["decode_errors"] == {"train": 1, "serve": 1}  # the .error file counts as a decode error
    assert all(r["metrics"]["tensor"]["max_abs_diff"] == 0.0 for r in data["images"] if r["serve"]["status"] == "ok")


def test_npy_npz_and_raw_uint8_forms(image_dir: Path, tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    (dump / "a").mkdir(parents=True)
    np.save(dump / "a" / "img0.png.npy", pixels(image_dir / "a" / "img0.png").astype(np.float32) / 255)
    np.savez(dump / "a" / "img1.png.npz", x=pixels(image_dir / "a" / "img1.png").astype(np.float32) / 255)
    raw = pixels(image_dir / "a" / "img2.png")
    dump_raw(dump / "a" / "img2.png", raw.tobytes(), list(raw.shape), "uint8")
    pipe = load_pipeline(f"tensors:{dump}", images_root=image_dir)
    outs = [pipe.run(image_dir / "a" / f"img{i}.png") for i in range(3)]
    assert [o.status for o in outs] == ["ok", "ok", "ok"]
    assert [o.tensor.dtype.name for o in outs] == ["float32", "float32", "uint8"]
    np.testing.assert_array_equal(outs[2].tensor, raw)
    missing = pipe.run(image_dir / "b" / "img3.png")
    assert missing.status == "missing" and missing.error_type == "TensorNotFound"
    assert "b/img3.png.npy" in missing.error


def test_raw_uint8_dump_is_a_scale_finding_and_missing_files_are_counted(image_dir: Path, tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    for i in (0, 1, 2):
        rel = f"a/img{i}.png"
        raw = pixels(image_dir / rel)
        dump_raw(dump / rel, raw.tobytes(), list(raw.shape), "uint8")
    report = compare(train=UNIT, serve=f"tensors:{dump}", images=image_dir)
    data = report.to_dict()
    assert data["summary"]["missing"] == {"train": 0, "serve": 4}
    top = report.findings[0]
    assert (top.kind, top.side, top.evidence["k"], top.images) == ("scale", "unknown", 255.0, 3)


def test_big_endian_and_batched_chw(image_dir: Path, tmp_path: Path) -> None:
    arr = pixels(image_dir / "b" / "img4.png").astype(np.float32) / 255
    chw = np.transpose(arr, (2, 0, 1))[None]  # (1, 3, 24, 24), as many C++ services keep it
    dump_raw(tmp_path / "d" / "b" / "img4.png", chw.astype(">f4").tobytes(), list(chw.shape), "float32", order="big")
    outcome = load_pipeline(f"tensors:{tmp_path / 'd'}", images_root=image_dir).run(image_dir / "b" / "img4.png")
    assert outcome.status == "ok" and outcome.tensor.shape == (3, 24, 24)
    assert outcome.tensor.dtype == np.float32 and outcome.tensor.dtype.isnative
    assert any("batch axis" in n for n in outcome.notes)
    np.testing.assert_array_equal(outcome.tensor, chw[0])


@pytest.mark.parametrize(
    ("sidecar", "payload", "message"),
    [
        (
            {"shape": [24, 24, 3], "dtype": "float32"},
            b"\0" * 100,
            "has 100 bytes; shape [24, 24, 3] of float32 needs 6912",
        ),
        ({"shape": [2, 2]}, b"\0" * 16, 'expected {"shape"'),
        ({"shape": [4], "dtype": "object"}, b"\0" * 32, "not a numeric dtype"),
        (None, b"\0" * 16, "has no sidecar"),
    ],
)
def test_unreadable_dumps_are_pipeline_errors(
    image_dir: Path, tmp_path: Path, sidecar: dict | None, payload: bytes, message: str
) -> None:
    base = tmp_path / "d" / "a" / "img0.png"
    base.parent.mkdir(parents=True)
    Path(f"{base}.bin").write_bytes(payload)
    if sidecar is not None:
        Path(f"{base}.json").write_text(json.dumps(sidecar))
    outcome = load_pipeline(f"tensors:{tmp_path / 'd'}", images_root=image_dir).run(image_dir / "a" / "img0.png")
    assert outcome.status == "pipeline-error"
    assert message in outcome.error


def test_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="tensors folder not found"):
        load_pipeline(f"tensors:{tmp_path / 'nope'}")
