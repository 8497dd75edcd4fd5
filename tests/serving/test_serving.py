"""A live KServe server as --serve (issue 14): v1 and v2, image and tensor input, black-box replay.

The server is fixtures/serving_example.py, a real kserve ModelServer serving the bundled example
model with a bug in its preprocess(); it runs from the overlay venv fixtures/serving_venv.py
builds (kserve pins protobuf<7). Without that venv the server tests skip, saying why.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from skewcheck.serving import protocol
from tests.serving_server import example_server, free_port, kserve_python_or_reason

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "skewcheck" / "example"
TRAIN = "skewcheck.example.pipelines:train_preprocess"
V1 = "/v1/models/example:predict"
V2 = "/v2/models/example/infer"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """``server(bug)`` → the base URL of an example server with that bug (started once per bug)."""
    python, how = kserve_python_or_reason()
    if python is None:
        pytest.skip(f"no Python with kserve for the example server: {how}")
    logs = tmp_path_factory.mktemp("servers")
    running: dict[str, str] = {}
    with contextlib.ExitStack() as stack:

        def start(bug: str) -> str:
            if bug not in running:
                running[bug] = stack.enter_context(example_server(python, bug, logs / f"{bug}.log"))
            return running[bug]

        yield start


def audit(
    serve: str,
    report: Path,
    *extra: str,
    images: Path = EXAMPLE / "images",
    labels: Path | None = EXAMPLE / "labels.csv",
) -> tuple[int, str, dict]:
    args = [
        "compare",
        "--model",
        str(EXAMPLE / "model.keras"),
        "--train",
        TRAIN,
        "--serve",
        serve,
        "--images",
        str(images),
        "--report",
        str(report),
        *extra,
    ]
    if labels is not None:
        args += ["--labels", str(labels)]
    result = CliRunner().invoke(app, args)
    data = json.loads(report.read_text()) if report.exists() else {}
    return result.exit_code, result.output, data


@pytest.mark.parametrize("path", [V1, V2])
def test_scale_bug_is_named_first_with_the_accuracy_drop(server, tmp_path, path):
    code, out, r = audit(server("scale") + path, tmp_path / "r.json")
    assert code == 1, out
    first = r["findings"][0]
    assert first["kind"] == "scale" and first["side"] == "serve"
    assert first["evidence"]["k"] == 255.0 and first["evidence"]["replay"] == "train + ×255"
    assert first["evidence"]["agreement"] == 1.0  # the endpoint answers as train ×255 on every image
    acc = r["summary"]["accuracy"]
    assert acc["train"] == pytest.approx(0.95) and acc["serve"] < acc["train"] - 0.1  # the drop the bug costs
    flips = r["summary"]["flips"]
    assert flips > 0 and first["impact"]["flips_recovered"] == flips
    assert first["impact"]["accuracy_after_fix"] == pytest.approx(acc["train"])
    assert r["summary"]["endpoint"]["protocol"] == path.split("/")[1] and r["summary"]["endpoint"]["images_per_s"] > 0
    assert all(img["serve"]["model"]["status"] == "ok" for img in r["images"])


@pytest.mark.parametrize("path", [V1, V2])
def test_bgr_bug_is_named_channel_order(server, tmp_path, path):
    code, out, r = audit(server("bgr") + path, tmp_path / "r.json")
    assert code == 1, out
    first = r["findings"][0]
    assert first["kind"] == "channel-order" and first["evidence"]["permutation"] == [2, 1, 0]
    assert first["evidence"]["agreement"] == 1.0 and first["evidence"]["agreement_train_as_is"] < 1.0
    assert first["impact"]["flips_recovered"] == r["summary"]["flips"] > 0


@pytest.mark.parametrize("path", [V1, V2])
def test_no_bug_passes(server, tmp_path, path):
    code, out, r = audit(server("none") + path, tmp_path / "r.json")
    assert code == 0, out
    assert r["findings"] == [] and r["summary"]["top1_agreement"] == 1.0
    assert r["summary"]["accuracy"]["serve"] == r["summary"]["accuracy"]["train"]


def test_tensor_mode_audits_the_model_only(server, tmp_path):
    """The bug lives in the server's preprocess(): sending train's tensor bypasses it."""
    code, out, r = audit(server("scale") + V2, tmp_path / "r.json", "--endpoint-input", "tensor")
    assert code == 0, out
    assert r["summary"]["top1_agreement"] == 1.0 and "replay" not in r["summary"]
    assert r["images"][0]["serve"]["shape"] == [32, 32, 3]  # serve's tensor is train's, sent to the endpoint


def test_a_file_the_service_rejects_is_that_images_outcome(server, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for src in sorted((EXAMPLE / "images").rglob("*.png"))[:6]:
        shutil.copy(src, images / src.name)
    (images / "broken.png").write_bytes(b"not an image at all")
    code, out, r = audit(
        server("none") + V1, tmp_path / "r.json", "--endpoint-batch-size", "4", images=images, labels=None
    )
    assert code in (0, 1), out
    by_path = {img["path"]: img for img in r["images"]}
    broken = by_path["broken.png"]["serve"]["model"]
    assert broken["status"] == "model-error" and broken["error"].startswith("HTTPError: HTTP 500")
    assert all(by_path[p]["serve"]["model"]["status"] == "ok" for p in by_path if p != "broken.png")


def test_header_secret_never_reaches_a_report(server, tmp_path):
    secret = "s3cr3t-T0KEN-9f8e7d"
    reports = [tmp_path / "r.json", tmp_path / "r.md", tmp_path / "r.html", tmp_path / "r.xml"]
    args = [
        "compare",
        "--model",
        str(EXAMPLE / "model.keras"),
        "--train",
        TRAIN,
        "--serve",
        server("bgr") + V1,
        "--images",
        str(EXAMPLE / "images"),
        "--endpoint-header",
        f"Authorization: Bearer {secret}",
    ]
    for report in reports:
        args += ["--report", str(report)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert secret not in result.output
    for report in reports:
        assert report.exists() and secret not in report.read_text(errors="replace"), report


def test_serving_page_runs_are_what_the_documented_commands_print(server):
    """docs/serving.md's runs against the example server (scripts/serving_excerpt.py --check),
    against this module's servers: each bug's server starts once for these tests and the page."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("serving_excerpt", REPO / "scripts" / "serving_excerpt.py")
    assert spec is not None and spec.loader is not None
    excerpt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(excerpt)
    assert excerpt.main(check=True, servers=server) == 0, "regenerate: python scripts/serving_excerpt.py"


def test_unreachable_endpoint_is_one_line_and_exit_2(tmp_path):
    port = free_port()  # nothing listens there
    code, out, _ = audit(
        f"http://127.0.0.1:{port}{V1}", tmp_path / "r.json", "--endpoint-header", "Authorization: Bearer hidden-value"
    )
    assert code == 2
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "endpoint unreachable" in lines[0] and "Traceback" not in out, out
    assert "hidden-value" not in out
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    ("serve", "extra", "says"),
    [
        ("http://127.0.0.1:1/v3/models/x:run", [], "ends in /v1/models/NAME:predict"),
        (f"http://127.0.0.1:1{V1}", ["--endpoint-input", "pixels"], "--endpoint-input must be image or tensor"),
        (f"http://127.0.0.1:1{V1}", ["--endpoint-header", "no colon here"], "--endpoint-header must look like"),
    ],
)
def test_endpoint_usage_errors(tmp_path, serve, extra, says):
    code, out, _ = audit(serve, tmp_path / "r.json", *extra)
    assert code == 2 and says in out and "Traceback" not in out, out


def test_an_endpoint_needs_the_deployed_model(tmp_path):
    result = CliRunner().invoke(
        app, ["compare", "--train", TRAIN, "--serve", f"http://127.0.0.1:1{V1}", "--images", str(EXAMPLE / "images")]
    )
    assert result.exit_code == 2 and "--model" in result.output


def test_malformed_responses_are_named():
    with pytest.raises(protocol.MalformedResponse, match="2 predictions for 3 instances"):
        protocol.v1_outputs({"predictions": [[0.1, 0.9], [0.5, 0.5]]}, 3)
    with pytest.raises(protocol.MalformedResponse, match="no 'outputs' list"):
        protocol.v2_outputs({"model_name": "x"}, 1)
    with pytest.raises(protocol.MalformedResponse, match="do not fill shape"):
        protocol.v2_outputs({"outputs": [{"name": "p", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3]}]}, 2)
    rows = protocol.v2_outputs(
        {"outputs": [{"name": "p", "shape": [2, 2], "datatype": "FP32", "data": [0.25, 0.75, 1, 0]}]}, 2
    )
    assert [r[0].tolist() for r in rows] == [[0.25, 0.75], [1.0, 0.0]]


def test_help_imports_neither_httpx_nor_tensorflow():
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom skewcheck.cli import app\n"
        "r = CliRunner().invoke(app, ['compare', '--help'])\nassert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('httpx', 'tensorflow') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
