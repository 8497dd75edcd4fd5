"""`skewcheck probe-images` through typer's CliRunner, and once as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from skewcheck.cli import app
from skewcheck.probes import KINDS, MANIFEST, load_manifest

runner = CliRunner()


def test_writes_the_builtin_set_and_summarises(tmp_path):
    out = tmp_path / "probes"
    result = runner.invoke(app, ["probe-images", str(out)])
    assert result.exit_code == 0, result.output
    manifest = load_manifest(out)
    assert len(manifest) > 100
    assert f"manifest: {out / MANIFEST}" in result.output.replace("\n", "")
    assert "icc" in result.output and "exif" in result.output and " s" in result.output
    assert f"{len(manifest)} files" in result.output


def test_list_prints_every_kind_with_its_description():
    result = runner.invoke(app, ["probe-images", "--list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for kind in KINDS:
        assert any(kind.name in line and kind.description in line for line in lines), kind.name


def test_kinds_filter_by_kind_and_category(tmp_path):
    out = tmp_path / "p"
    result = runner.invoke(app, ["probe-images", str(out), "--kinds", "exif-orientation-6, truncated"])
    assert result.exit_code == 0, result.output
    kinds = {e.kind for e in load_manifest(out).values()}
    assert kinds == {"exif-orientation-6", "truncated-jpeg", "truncated-jpeg-no-eoi", "truncated-png", "base"}


def test_from_a_user_dir(tmp_path):
    src = tmp_path / "photos"
    src.mkdir()
    for i in range(2):
        Image.fromarray(np.full((30, 50, 3), 40 * i + 20, np.uint8)).save(src / f"shot{i}.jpg", quality=90)
    out = tmp_path / "p"
    result = runner.invoke(
        app, ["probe-images", str(out), "--from", str(src), "--kinds", "icc,clean-png", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    files = set(load_manifest(out))
    assert {"clean/shot0.clean-png.png", "icc/shot1.icc-adobe-rgb.jpg", "bases/shot0.png"} <= files
    assert not any("astronaut" in f for f in files)


def test_usage_errors_are_one_line_and_exit_2(tmp_path):
    cases = [
        ["probe-images", str(tmp_path / "a"), "--kinds", "icc,bogus"],
        ["probe-images", str(tmp_path / "b"), "--from", str(tmp_path / "missing")],
        ["probe-images", str(tmp_path / "c"), "--kinds", " , "],
        ["probe-images"],
    ]
    (tmp_path / "empty").mkdir()
    cases.append(["probe-images", str(tmp_path / "d"), "--from", str(tmp_path / "empty")])
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("skewcheck: error: ")
        assert "Traceback" not in result.output
    assert not (tmp_path / "a").exists()


def test_probe_images_imports_neither_tensorflow_nor_opencv(tmp_path):
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from skewcheck.cli import app\n"
        f"result = CliRunner().invoke(app, ['probe-images', {str(tmp_path / 'p')!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('tensorflow', 'cv2', 'keras') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
