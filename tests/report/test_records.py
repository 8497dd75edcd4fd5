"""Per-image records stream to a temporary JSON Lines file and back into the reports."""

from __future__ import annotations

import gc
import json
import math
import os

import pytest

import skewcheck
from skewcheck.report import write_report
from skewcheck.report.model import Report
from skewcheck.report.records import RecordFile
from tests.conftest import photo_like, write_png

REF = "tests/pipelines_for_tests.py:"

pytestmark = pytest.mark.usefixtures("run_from_repo")


def _records(n: int) -> list[dict]:
    return [
        {
            "path": f"d/{i}.png",
            "train": {"status": "ok", "range": [0.0, 1.0]},
            "findings": ["scale"] * (i % 2),
            "metrics": {"tensor": {"psnr": math.inf if i % 3 == 0 else 30.5, "max_abs_diff": i / 7}},
        }
        for i in range(n)
    ]


def test_record_file_reads_back_what_was_appended():
    records = _records(25)
    store = RecordFile()
    for r in records:
        store.append(r)
    assert len(store) == 25
    assert list(store) == records  # infinities round-trip (written as null only in the JSON report)
    assert store[0] == records[0] and store[-1] == records[-1] and store[7] == records[7]
    assert store[3:6] == records[3:6]
    assert store == records
    with pytest.raises(IndexError):
        store[25]
    store.append({"path": "late"})  # appending after reading goes to the end
    assert store[25] == {"path": "late"} and len(list(store)) == 26


def test_record_file_is_deleted_on_close_and_on_garbage_collection():
    store = RecordFile()
    store.append({"path": "a"})
    path = store.path
    assert os.path.exists(path)
    store.close()
    assert not os.path.exists(path) and store.closed
    with pytest.raises(ValueError):
        list(store)

    store = RecordFile()
    store.append({"path": "b"})
    path = store.path
    del store
    gc.collect()
    assert not os.path.exists(path)


def _report(images) -> Report:
    return Report(
        gate="major",
        model=None,
        pipelines={},
        summary={"images": len(images)},
        findings=[],
        images=images,
        audit_error=None,
    )


@pytest.mark.parametrize("count", [0, 1, 5])
@pytest.mark.parametrize("indent", [2, None, 4])
def test_streamed_json_is_the_json_of_the_whole_dict(count, indent):
    records = _records(count)
    store = RecordFile()
    for r in records:
        store.append(r)
    in_memory = _report(records)
    expected = json.dumps(in_memory.to_dict(), indent=indent, allow_nan=False) + "\n"
    assert in_memory.to_json(indent) == expected
    assert _report(store).to_json(indent) == expected


def test_audit_records_stream_into_every_report(tmp_path, image_dir):
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "opencv_bgr_unit", images=image_dir)
    assert isinstance(report.images, RecordFile) and os.path.exists(report.images.path)
    records = list(report.images)
    assert len(report.images) == len(records) == 7
    assert sorted(r["path"] for r in records) == sorted(
        p.relative_to(image_dir).as_posix() for p in image_dir.rglob("*") if p.is_file()
    )
    assert report.images[0] == records[0]
    write_report(report, tmp_path / "r.json")
    write_report(report, tmp_path / "r.xml")
    data = json.loads((tmp_path / "r.json").read_text())
    assert [r["path"] for r in data["images"]] == [r["path"] for r in records]
    assert (tmp_path / "r.json").read_text() == report.to_json()
    assert (tmp_path / "r.xml").read_text().count("<testcase ") == 7
    path = report.images.path
    report.close()
    assert not os.path.exists(path)


def test_many_records_stay_on_disk(tmp_path):
    """Enough images that a list would show: the records are on disk, the JSON still has them all."""
    root = tmp_path / "imgs"
    for i in range(150):
        write_png(root / f"{i:03d}.png", photo_like(i % 7, 8))
    with skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_unit_again", images=root) as report:
        assert os.path.getsize(report.images.path) > 150 * 50
        write_report(report, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert len(data["images"]) == 150 and data["summary"]["images"] == 150
