"""``--images`` as a URI (issue 15): discovered and read through pyarrow, never by a local path.

Only local storage is reachable here, so the URIs are ``file://`` ones (pyarrow's local
filesystem) and a ``SubTreeFileSystem`` registered under a made-up URI, which pyarrow lists as it
lists an object store. The Ray engine's side of it is in tests/engines/test_ray_engine.py.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.errors import UsageError
from skewcheck.example import example_arguments
from skewcheck.images import uri as uri_module
from skewcheck.images.discover import discover_images
from skewcheck.images.source import ObjectFile
from skewcheck.images.uri import open_folder
from tests.conftest import photo_like, write_png
from tests.execution.test_workers import without_timings

fs = pytest.importorskip("pyarrow.fs", reason="the [ray] extra (pyarrow) is not installed (it is part of [test])")

REF = "tests/pipelines_for_tests.py:"
pytestmark = pytest.mark.usefixtures("run_from_repo")


def file_uri(path: Path) -> str:
    return path.absolute().as_uri()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Hidden files, non-images, nested and empty folders, a probe manifest and a labels file."""
    root = tmp_path / "tree"
    write_png(root / "z.png", photo_like(0, 8))
    write_png(root / "a" / "0.png", photo_like(1, 8))
    write_png(root / "a" / "b" / "1.png", photo_like(2, 8))
    write_png(root / "a-b" / "2.png", photo_like(3, 8))  # '-' sorts before '/': folder order, not text order
    write_png(root / "B" / "3.png", photo_like(4, 8))
    (root / ".hidden.png").write_bytes(b"\x89PNG not really")
    (root / "a" / ".DS_Store").write_bytes(b"\0\0")
    (root / "notes.txt").write_text("not an image\n")
    (root / "a" / "manifest.json").write_text("{}")  # only the top one is the probe manifest
    (root / "manifest.json").write_text(json.dumps({"probes": []}))
    (root / "labels.csv").write_text("file,label\nz.png,1\n")
    (root / "empty" / "deeper").mkdir(parents=True)
    os.mkfifo(root / "a" / "pipe.png")
    return root


def test_a_listed_store_gives_the_local_walk_names_order_and_skips(tree: Path, monkeypatch: pytest.MonkeyPatch):
    store = fs.SubTreeFileSystem(str(tree.parent), fs.LocalFileSystem())  # listed like a bucket: one flat listing
    monkeypatch.setitem(uri_module._RESOLVED, "store://bucket/tree", (store, "tree"))
    folder = open_folder("store://bucket/tree")
    local = discover_images(tree, skip={tree / "labels.csv"})
    listed = discover_images(folder, skip={folder.file("labels.csv")})
    names = [f.relative_to(tree).as_posix() for f in local.files]
    assert [f.relative for f in listed.files] == names
    assert names == [
        ".hidden.png",
        "notes.txt",
        "z.png",
        "B/3.png",
        "a/.DS_Store",
        "a/0.png",
        "a/manifest.json",
        "a/b/1.png",
        "a-b/2.png",
    ]
    assert [s["path"] for s in listed.skipped] == [s["path"] for s in local.skipped] == ["a/pipe.png"]
    assert listed.skipped[0]["reason"].startswith("not a regular file (")


def test_a_file_uri_follows_the_local_rules_where_pyarrow_would_loop(tree: Path):
    os.symlink(tree, tree / "a" / "up")  # a link to an ancestor: pyarrow's recursive listing never ends
    os.symlink(tree / "gone.png", tree / "dangling.png")  # pyarrow's listing drops it without a word
    local = discover_images(tree)
    listed = discover_images(open_folder(file_uri(tree)))
    assert [f.relative for f in listed.files] == [f.relative_to(tree).as_posix() for f in local.files]
    assert listed.skipped == local.skipped
    assert {s["path"]: s["reason"] for s in listed.skipped}["a/up"] == "symlink to a folder (not followed)"


def test_the_example_through_a_file_uri_gives_the_folders_report(example_report):
    args = example_arguments()
    report = skewcheck.compare(
        **{**args, "images": file_uri(Path(args["images"])), "labels": file_uri(Path(args["labels"]))}
    )
    local, remote = without_timings(example_report.to_dict()), without_timings(report.to_dict())
    assert local.keys() == remote.keys()
    for key in local:
        assert local[key] == remote[key], key
    assert remote["summary"]["images"] == 60 and len(remote["findings"]) == 2


@pytest.fixture
def audited(image_dir: Path) -> Path:
    """conftest's image_dir (six photos, a text file named .jpg), with a labels CSV and a probe manifest inside."""
    root = image_dir
    (root / "labels.csv").write_text("file,label\n" + "".join(f"{d}/img{i}.png,{i}\n" for i, d in enumerate("aaabbb")))
    probe = {"kind": "photo", "category": "clean", "base": None, "expect": "either", "tolerance": None, "note": ""}
    (root / "manifest.json").write_text(json.dumps({"probes": [{**probe, "file": "a/img0.png"}]}))
    return root


def guard_local_reads(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[str]:
    """Every Python-level open of a file under ``folder`` (pathlib, Pillow, open()) raises; the
    names tried are returned. pyarrow reads natively, below this guard."""
    tried: list[str] = []
    real_open, inside = builtins.open, folder.resolve()

    def guarded(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(file, (str, bytes, os.PathLike)) and Path(os.fsdecode(file)).resolve().is_relative_to(inside):
            tried.append(Path(os.fsdecode(file)).resolve().relative_to(inside).as_posix())
            raise PermissionError(f"read by its local path: {file}")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    monkeypatch.setattr(io, "open", guarded)
    return tried


def count_object_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    reads: Counter[str] = Counter()
    real = ObjectFile.read_bytes

    def counted(self: ObjectFile) -> bytes:
        reads[self.relative] += 1
        return real(self)

    monkeypatch.setattr(ObjectFile, "read_bytes", counted)
    return reads


def test_the_driver_reads_no_image_by_its_local_path_given_a_uri(audited: Path, monkeypatch: pytest.MonkeyPatch):
    args = {"train": REF + "opencv_bgr_unit", "serve": REF + "pil_unit_batched"}  # bytes vs a path: BGR vs RGB
    tried = guard_local_reads(monkeypatch, audited)
    with pytest.raises(UsageError, match="manifest.json"):  # the guard bites: the folder's probe manifest,
        skewcheck.compare(**args, images=audited)
    skewcheck.compare(**args, images=audited / "a")  # and the pipelines' reads (pathlib, Pillow)
    assert set(tried) == {"manifest.json", "a/img0.png", "a/img1.png", "a/img2.png"}
    tried.clear()
    reads = count_object_reads(monkeypatch)
    report = skewcheck.compare(**args, images=file_uri(audited), labels=file_uri(audited / "labels.csv")).to_dict()
    assert tried == []
    assert report["summary"]["images"] == 7  # the labels CSV and the manifest are not audited
    finding = next(f for f in report["findings"] if f["kind"] == "channel-order")
    assert finding["side"] == "train" and finding["images"] == 6  # the side comes from the file's own pixels
    by_path = {r["path"]: r for r in report["images"]}
    assert [by_path[f"a/img{i}.png"]["label"] for i in range(3)] == [0, 1, 2]
    assert by_path["a/img0.png"]["probe"]["kind"] == "photo"
    assert {by_path["b/notes.jpg"][side]["status"] for side in ("train", "serve")} == {"decode-error"}
    assert reads["labels.csv"] == 1 and reads["manifest.json"] == 1
    # one read for both pipelines, their repeat runs and the file's decode for diagnosis (its facts),
    # and one more for both sides' line trace of the few images traced after the audit (issue 31)
    traced = {image["path"] for image in report["line_trace"]["images"]}
    assert 1 <= len(traced) <= 3
    paths = [f"{d}/img{i}.png" for i, d in enumerate("aaabbb")]
    assert [reads[p] for p in paths] == [2 if p in traced else 1 for p in paths], reads
    assert reads["b/notes.jpg"] == 1  # no pixels to re-render


def test_an_object_gone_after_listing_is_that_images_error(image_dir: Path):
    gone = image_dir / "b" / "img4.png"

    def remove_once_listed(done: int, total: int) -> None:
        if done == 0:
            gone.unlink()

    report = skewcheck.compare(
        train=REF + "pil_unit", serve=REF + "pil_raw", images=file_uri(image_dir), progress=remove_once_listed
    )
    by_path = {r["path"]: r for r in report.images}
    assert len(by_path) == 7
    assert {by_path["b/img4.png"][side]["error_type"] for side in ("train", "serve")} == {"FileNotFoundError"}
    assert by_path["b/img3.png"]["train"]["status"] == "ok"


def test_workers_read_a_uri_too(image_dir: Path):
    args = {"train": REF + "raises_on_b", "serve": REF + "pil_raw"}  # raises_on_b looks for '/b/' in its path
    local = skewcheck.compare(**args, images=image_dir).to_dict()
    pooled = skewcheck.compare(**args, images=file_uri(image_dir), workers=1).to_dict()
    assert without_timings(pooled) == without_timings(local)
    assert pooled["summary"]["pipeline_errors"]["train"] == 4  # b/img3-5 and b/notes.jpg


def cli_error(*args: str) -> str:
    result = CliRunner().invoke(app, ["compare", "--train", REF + "pil_unit", "--serve", REF + "pil_raw", *args])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output, result.output
    return result.output.strip()


def test_a_uri_that_cannot_be_audited_is_one_line_and_exit_2(tmp_path: Path, image_dir: Path):
    (tmp_path / "empty").mkdir()
    absent = file_uri(tmp_path / "no-such-prefix")
    assert cli_error("--images", absent) == f"skewcheck: error: images folder not found: {absent}"
    empty = file_uri(tmp_path / "empty")
    assert cli_error("--images", empty) == f"skewcheck: error: no files found under {empty}"
    assert "must be a folder, got a file" in cli_error("--images", file_uri(image_dir / "a" / "img0.png"))
    assert "not a URI pyarrow can open (Unrecognized filesystem type" in cli_error("--images", "nosuch://bucket/x")
    assert "name a bucket" in cli_error("--images", "s3://")
    missing_labels = file_uri(image_dir / "labels.csv")
    assert f"cannot read --labels {missing_labels}" in cli_error(
        "--images", file_uri(image_dir), "--labels", missing_labels
    )


def test_without_pyarrow_a_uri_names_the_extra(monkeypatch: pytest.MonkeyPatch, image_dir: Path):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` raises ImportError, as when not installed
    monkeypatch.setitem(sys.modules, "pyarrow.fs", None)
    uri = file_uri(image_dir) + "/"  # a URI this process has not resolved before
    assert cli_error("--images", uri) == (
        f"skewcheck: error: --images {uri}: skewcheck needs pyarrow to read a URI: pip install 'skewcheck[ray]'"
    )


def test_a_pyarrow_built_without_s3_is_one_line(monkeypatch: pytest.MonkeyPatch):
    from pyarrow.lib import ArrowNotImplementedError

    def without_s3(uri: str) -> tuple[object, str]:
        raise ArrowNotImplementedError("Got S3 URI but Arrow compiled without S3 support")

    monkeypatch.setattr(uri_module, "resolve", without_s3)
    assert cli_error("--images", "s3://bucket/prefix") == (
        "skewcheck: error: --images s3://bucket/prefix: this pyarrow cannot open s3:// URIs "
        "(Got S3 URI but Arrow compiled without S3 support)"
    )


def test_a_path_pipeline_gets_a_copy_at_the_same_place_below_the_folder(image_dir: Path, tmp_path: Path):
    from skewcheck.images.source import local_path

    folder = open_folder(file_uri(image_dir))
    with local_path(folder.file("b/img4.png")) as copy:
        assert copy.parts[-2:] == ("b", "img4.png") and copy.read_bytes() == (image_dir / "b" / "img4.png").read_bytes()
        assert not copy.is_relative_to(image_dir)
    assert not copy.exists()
    shutil.copy(image_dir / "b" / "img4.png", tmp_path / "x.png")
    (tmp_path / "sub").mkdir()
    with local_path(open_folder(file_uri(tmp_path / "sub")).file("../x.png")) as copy:  # a key that climbs out
        assert copy.name == "x.png" and not copy.is_relative_to(tmp_path)
