"""Where in the code: the first lines at which two Python pipelines diverge (issue 31).

The pipelines live in tests/traced_pipelines/: decode, resize and normalize in their own modules,
called from train.py and serve.py in different orders. Each named line is checked exactly.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

import skewcheck
from skewcheck.report.terminal import render
from tests.conftest import photo_like, write_png

pytestmark = pytest.mark.usefixtures("run_from_repo")  # references and the named files are repo-relative

TRAIN = "tests/traced_pipelines/train.py:preprocess"
SERVE = "tests/traced_pipelines/serve.py:"
DIR = "tests/traced_pipelines/"

TRAIN_HALVE = (DIR + "resize.py", 12, "small = blocks.mean(axis=(1, 3))")
SERVE_NEAREST = (
    DIR + "resize.py",
    17,
    "small = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_NEAREST)",
)


@pytest.fixture(scope="module")
def textured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six 32 x 32 RGB photos with grain: a block mean and the nearest pixel differ everywhere."""
    root = tmp_path_factory.mktemp("textured")
    rng = np.random.default_rng(0)
    for i in range(6):
        base = photo_like(i, 32).astype(int)
        write_png(root / f"{i}.png", np.clip(base + rng.integers(-60, 61, base.shape), 0, 255).astype(np.uint8))
    return root


def audit(serve: str, images: Path) -> dict[str, Any]:
    return skewcheck.compare(model="none", train=TRAIN, serve=SERVE + serve, images=images).to_dict()


def lines(location: dict[str, Any]) -> tuple[tuple[str, int, str], tuple[str, int, str]]:
    return tuple((location[s]["file"], location[s]["line"], location[s]["code"]) for s in ("train", "serve"))  # type: ignore[return-value]


def finding(data: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(f for f in data["findings"] if f["kind"] == kind)


def test_resize_in_another_module_is_named_at_both_resize_lines(textured):
    data = audit("nearest", textured)
    resize = finding(data, "resize")
    assert lines(resize["location"]) == (TRAIN_HALVE, SERVE_NEAREST)
    assert resize["location"]["image"] == "0.png"  # the first image with the finding, in audit order
    assert resize["location"]["serve"]["name"] == "small"
    traced = data["line_trace"]["images"]
    assert [t["path"] for t in traced] == ["0.png"]  # one image carries every finding: one image traced
    assert traced[0]["train"]["snapshots"] == 4 and traced[0]["serve"]["snapshots"] == 4


def test_the_same_cause_after_steps_in_another_order_is_named_at_the_same_lines(textured):
    """serve normalizes before resizing: its normalized full-size image still matches train's
    decode (rescaled), so the first value no train line made is the nearest-pixel resize."""
    data = audit("scale_first_then_nearest", textured)
    assert lines(finding(data, "resize")["location"]) == (TRAIN_HALVE, SERVE_NEAREST)


def test_channel_order_is_named_at_the_two_decoders_though_the_steps_run_in_another_order(textured):
    data = audit("bgr_scale_first", textured)
    assert [f["kind"] for f in data["findings"]] == ["channel-order"]
    assert lines(data["findings"][0]["location"]) == (
        (DIR + "decode.py", 13, "with Image.open(io.BytesIO(data)) as image:"),
        (DIR + "decode.py", 19, "pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)"),
    )
    # once the channels are swapped back, every serve value matches a train value: no content divergence
    assert set(data["line_trace"]["images"][0]["located"]) == {"channels"}


def test_a_missing_division_is_named_at_trains_division_and_serves_return(textured):
    data = audit("no_unit_scale", textured)
    assert lines(finding(data, "scale")["location"]) == (
        (DIR + "normalize.py", 9, "scaled = img.astype(np.float32) / np.float32(255.0)"),
        (DIR + "serve.py", 48, "return x"),
    )


def test_identical_pipelines_have_no_location(textured):
    data = audit("same", textured)
    assert data["verdict"] == "pass" and data["findings"] == []
    assert data["line_trace"] == {"images": [], "seconds": 0.0}  # nothing to explain: nothing traced


def test_a_pipeline_failing_under_the_tracer_is_recorded_and_the_previous_trace_function_restored(textured):
    def outer_tracer(frame: Any, event: str, arg: Any) -> None:  # stands for a debugger or coverage
        return None

    previous = sys.gettrace()
    sys.settrace(outer_tracer)
    try:
        data = audit("fails_when_traced", textured)
        assert sys.gettrace() is outer_tracer
    finally:
        sys.settrace(previous)
    resize = finding(data, "resize")
    assert resize["severity"] == "minor" and data["exit_code"] == 0  # no model, no gross image: no damage
    assert resize["images"] == 6 and resize["location"] is None
    serve = data["line_trace"]["images"][0]["serve"]
    assert serve == {"snapshots": 0, "error": "the pipeline raised when traced: RuntimeError: traced"}


def test_declarative_pipelines_have_no_line_trace(textured):
    toml = "docs/examples/pipelines.toml#"
    data = skewcheck.compare(model="none", train=toml + "train", serve=toml + "serve", images=textured).to_dict()
    assert data["findings"] and "line_trace" not in data
    assert all(f["location"] is None for f in data["findings"])


def test_every_report_format_shows_the_location(textured):
    report = skewcheck.compare(model="none", train=TRAIN, serve=SERVE + "nearest", images=textured)
    where = (
        f"train `{TRAIN_HALVE[0]}:12 {TRAIN_HALVE[2]}` vs serve `{SERVE_NEAREST[0]}:17 {SERVE_NEAREST[2]}`: "
        "first difference here (traced on 0.png)"
    )
    console = Console(width=400, file=io.StringIO(), color_system=None)
    render(report.to_dict(), console)
    assert (
        "where: first difference here (traced on 0.png)\n"
        f"train {TRAIN_HALVE[0]}:12\n{TRAIN_HALVE[2]}\nserve {SERVE_NEAREST[0]}:17\n{SERVE_NEAREST[2]}"
    ) in "\n".join(cell.split("│")[-2].strip() for cell in console.file.getvalue().splitlines() if "│" in cell)  # type: ignore[attr-defined]
    assert f'<div class="location">where: {where}</div>' in report.to_html()
    markdown = report.to_markdown()
    assert "<br>where: train \\`tests/traced\\_pipelines/resize.py:12 small = blocks.mean(axis=(1, 3))\\`" in markdown


def test_the_bundled_example_names_the_division_serve_lacks(example_cli):
    """From the CLI's JSON report: the scale (and the dtype) come from train's `/ 255.0` return,
    which serve's return has no counterpart for."""
    for kind in ("scale", "dtype"):
        where = finding(example_cli["json"], kind)["location"]
        assert where["train"]["file"].endswith("skewcheck/example/pipelines.py")
        assert (where["train"]["line"], where["train"]["code"]) == (
            20,
            "return (tf.cast(image, tf.float32) / 255.0).numpy()",
        )
        assert (where["serve"]["line"], where["serve"]["code"]) == (27, 'return np.asarray(image.convert("RGB"))')
