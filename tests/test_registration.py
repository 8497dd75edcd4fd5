"""Adding a model format, a report format, a probe kind or a detector is one registration each
(CONTRIBUTING.md): each test adds one, runs it through the public API or the CLI, and removes it."""

from __future__ import annotations

import csv
import io
import json
import types
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck import diagnose, report
from skewcheck.cli import app
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity
from skewcheck.models import loader
from skewcheck.models.base import ModelInfo, TensorSpec
from skewcheck.models.batched import BatchedRunner
from skewcheck.probes import catalogue, encode, load_manifest
from skewcheck.probes.model import Kind, Probe

REF = "tests/pipelines_for_tests.py:"
pytestmark = pytest.mark.usefixtures("run_from_repo")  # references are repo-relative


@pytest.fixture
def restore_registries():
    """Put every registry back as it was, whatever the test added."""
    saved = (
        list(loader.FORMATS),
        dict(report.RENDERERS),
        dict(report.FORMATS),
        list(catalogue.KINDS),
        dict(catalogue.KINDS_BY_NAME),
        list(diagnose.MODULES),
        diagnose.DETECTORS,
    )
    yield
    loader.FORMATS[:] = saved[0]
    report.RENDERERS.clear(), report.RENDERERS.update(saved[1])
    report.FORMATS.clear(), report.FORMATS.update(saved[2])
    catalogue.KINDS[:] = saved[3]
    catalogue.KINDS_BY_NAME.clear(), catalogue.KINDS_BY_NAME.update(saved[4])
    diagnose.MODULES[:] = saved[5]
    diagnose.DETECTORS = saved[6]


class ChannelMeanRunner(BatchedRunner):
    """A model format of the test's own: ``.means`` files hold one weight per channel; the
    "model" scores two classes from the weighted channel means of an H×W×3 image."""

    def __init__(self, path: Path, device: str = "auto") -> None:
        self.weights = np.array([float(w) for w in path.read_text().split()], dtype=np.float64)
        self.info = ModelInfo(
            str(path),
            "means",
            [TensorSpec("image", (None, None, None, 3), "float32")],
            [TensorSpec("scores", (None, 2), "float32")],
        )
        self.chunk_size = 4  # several chunks on six images: the shared lifecycle concatenates them

    def infer_chunk(self, chunk: np.ndarray) -> list[np.ndarray]:
        score = chunk.mean(axis=(1, 2)) @ self.weights
        return [np.stack([score, 1 - score], axis=-1).astype(np.float32)]


def test_a_model_format_is_one_registration(restore_registries, tmp_path, image_dir):
    model = tmp_path / "color.means"
    model.write_text("1.0 -1.0 0.0\n")
    loader.register_model_format(
        loader.ModelFormat(
            "means",
            "a .means file",
            lambda ref, p: p.suffix == ".means",
            lambda ref, p, device, unsafe: ChannelMeanRunner(p, device),
        )
    )
    with pytest.raises(ValueError, match="registered already"):
        loader.register_model_format(loader.FORMATS[-1])
    same = skewcheck.compare(model=str(model), train=REF + "pil_unit", serve=REF + "pil_unit_again", images=image_dir)
    assert same.model["format"] == "means" and same.summary["predicted"] == 6 and same.summary["flips"] == 0
    swapped = skewcheck.compare(
        model=str(model), train=REF + "pil_unit", serve=REF + "opencv_bgr_unit", images=image_dir
    )
    assert swapped.findings[0].kind == "channel-order"
    assert "a .means file" in loader.supported()  # the usage error lists it with the others


def _findings_csv(r: skewcheck.api.Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "severity", "side", "images", "flips"])
    for f in r.to_dict()["findings"]:
        writer.writerow([f["kind"], f["severity"], f["side"], f["images"], f["flips"]])
    return out.getvalue()


def test_a_report_format_is_one_registration(restore_registries, tmp_path, image_dir):
    report.register_report_format("csv", _findings_csv, (".csv",))
    with pytest.raises(ValueError, match="already name a report format"):
        report.register_report_format("tsv", _findings_csv, (".csv",))
    out, js = tmp_path / "findings.csv", tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--quiet",
            "--train",
            REF + "pil_unit",
            "--serve",
            REF + "pil_raw",
            "--images",
            str(image_dir),
            "--report",
            str(out),
            "--report",
            str(js),
        ],
    )
    assert result.exit_code == 1, result.output
    rows = list(csv.DictReader(out.read_text().splitlines()))
    expected = json.loads(js.read_text())["findings"]
    assert [(r["kind"], r["severity"], int(r["images"])) for r in rows] == [
        (f["kind"], f["severity"], f["images"]) for f in expected
    ]
    assert rows[0]["kind"] == "scale"


def _checkerboard(ctx) -> list[Probe]:
    board = (np.indices((32, 32)).sum(axis=0) % 2 * 255).astype(np.uint8)
    rgb = np.repeat(board[..., None], 3, axis=-1)
    return [
        Probe(
            "png",
            encode.png(rgb),
            "same-as-base",
            "1-pixel checkerboard: any resampling shows",
            base="sentinel.checkerboard",
            tolerance={"max_abs": 0},
            reference=rgb,
        )
    ]


def test_a_probe_kind_is_one_registration(restore_registries, tmp_path):
    catalogue.register_kind(Kind("sentinel-checkerboard", "sentinel", "1-pixel checkerboard", _checkerboard, False))
    with pytest.raises(ValueError, match="unknown category"):
        catalogue.register_kind(Kind("x", "no-such-category", "", _checkerboard, False))
    listed = CliRunner().invoke(app, ["probe-images", "--list"])
    assert "sentinel-checkerboard" in listed.output
    out = tmp_path / "probes"
    result = CliRunner().invoke(app, ["probe-images", str(out), "--kinds", "sentinel-checkerboard"])
    assert result.exit_code == 0, result.output
    [entry] = [e for e in load_manifest(out).values() if e.kind != "base"]  # and its base, stored beside
    assert (entry.kind, entry.category, entry.expect) == ("sentinel-checkerboard", "sentinel", "same-as-base")
    assert (out / entry.file).read_bytes() == _checkerboard(None)[0].data


def _offset_detector() -> types.ModuleType:
    """A detector of the test's own: serve brighter than train by a constant on every pixel."""
    module = types.ModuleType("skewcheck_test_offset")
    module.__doc__ = "Serve is train plus a constant offset."
    module.SPEC = DetectorSpec(kinds=("offset",), supersedes=("normalization", "scale"))

    def detect(ctx) -> list[Observation]:
        t, s = ctx.train.tensor, ctx.serve.tensor
        if t is None or s is None or t.shape != s.shape:
            return []
        d = (s.astype(np.float64) - t).ravel()
        if abs(d.mean()) < 1e-3 or d.std() > 1e-4:
            return []
        return [
            Observation(
                "offset",
                Severity.MAJOR,
                "serve",
                {"offset": round(float(d.mean()), 4)},
                "serve adds a constant to every value",
                "Drop the offset in serving.",
                1.0,
            )
        ]

    module.detect = detect
    return module


def test_a_detector_is_one_registration(restore_registries, image_dir):
    diagnose.register_detector(_offset_detector())
    assert "skewcheck_test_offset" in [d.name for d in diagnose.DETECTORS]
    r = skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_unit_small_offset", images=image_dir, atol=0, rtol=0)
    top = r.findings[0]
    assert (top.kind, top.side, top.images) == ("offset", "serve", 6)
    assert top.evidence["offset"] != 0
    assert "normalization" not in [f.kind for f in r.findings]  # superseded on every image it fires on
