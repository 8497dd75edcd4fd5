"""Issue 10: a seeded mutation corpus of probe files through PIL, OpenCV and tf.io pipelines.

Mutated probe files (bit flips, truncations, inserted/deleted/spliced chunks, corrupted headers;
see tests/mutation_corpus.py) go through ``skewcheck compare`` on the CLI, in-process and with
``--workers 2``: the exit code is one of skewcheck's own (0..3), no traceback reaches the output
(the CLI's or a worker's fd 2), and every input file is in the JSON report's images. Peak memory
is measured by benchmarks/fuzz_campaign.py, not here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from tests.mutation_corpus import write_corpus

REF = "tests/mutation_corpus.py:"
REPO = Path(skewcheck.__path__[0]).parent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("mutated")
    return root, write_corpus(root, 150, seed=10)


def _audit(images: Path, names: list[str], train: str, serve: str, report: Path, capfd, *extra: str) -> dict:
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--model",
            "none",
            "--train",
            REF + train,
            "--serve",
            REF + serve,
            "--images",
            str(images),
            "--report",
            str(report),
            "--fail-on",
            "major",
            *extra,
        ],
    )
    fd = capfd.readouterr()
    text = result.output + fd.out + fd.err
    assert result.exit_code in (0, 1, 2, 3), (result.exit_code, text[-3000:])
    assert not isinstance(result.exception, BaseException) or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in text, text[-3000:]
    data = json.loads(report.read_text())
    assert data["exit_code"] == result.exit_code
    reported = [r["path"] for r in data["images"]]
    assert sorted(reported) == sorted(names), set(names) ^ set(reported)
    return data


def _statuses(data: dict) -> set[str]:
    return {r[side]["status"] for r in data["images"] for side in ("train", "serve")}


def test_corpus_is_seeded_and_varied(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    names = write_corpus(a, 40, seed=3)
    assert names == write_corpus(b, 40, seed=3)
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert len({n.rsplit(".", 1)[1] for n in names}) >= 3
    assert write_corpus(tmp_path / "c", 40, seed=4) != names


def test_pil_vs_opencv_in_process(corpus, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(REPO)
    root, names = corpus
    assert {n.rsplit(".", 1)[1] for n in names} == {"jpg", "png", "webp", "bmp", "tiff", "gif"}
    data = _audit(root, names, "pil", "opencv", tmp_path / "r.json", capfd)
    assert {"ok", "decode-error"} <= _statuses(data)  # the corpus decodes, and also does not


def test_pil_vs_tf_in_process(corpus, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(REPO)
    root, names = corpus
    data = _audit(root, names, "pil", "tf", tmp_path / "r.json", capfd)
    assert "ok" in _statuses(data)


def test_opencv_vs_tf_with_workers(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(REPO)
    root = tmp_path / "mutated"
    names = write_corpus(root, 30, seed=11)
    _audit(root, names, "opencv", "tf", tmp_path / "r.json", capfd, "--workers", "2", "--timeout", "60")
