"""A model file that crashes its native loader ends in one line and exit 2, not a dead process."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

TINY = REPO / "fixtures" / "models" / "tiny.tflite"


def mutated(out: Path, seed: int) -> Path:
    """tiny.tflite with 8 bytes after the header overwritten: seed 0 gives a SIGSEGV in TFLite 2.21's
    loader, seed 3 a SIGBUS (whatever it does elsewhere, the outcome asserted below is the same)."""
    rng, data = random.Random(seed), bytearray(TINY.read_bytes())
    for _ in range(8):
        data[rng.randrange(8, len(data))] = rng.randrange(256)
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize(("seed", "command"), [(0, "inspect"), (3, "compare")])
def test_a_crashing_tflite_file_is_a_usage_error(tmp_path, seed, command):
    """In a subprocess, so that on a build without the check the crash kills that process, not pytest."""
    from tests.conftest import photo_like, write_png

    model = mutated(tmp_path / f"m{seed}.tflite", seed)
    write_png(tmp_path / "images" / "a.png", photo_like(0, size=16))
    args = {
        "inspect": ["inspect", str(model)],
        "compare": [
            "compare",
            "--quiet",
            "--model",
            str(model),
            "--train",
            "tests/pipelines_for_tests.py:pil_unit",
            "--serve",
            "tests/pipelines_for_tests.py:pil_unit",
            "--images",
            str(tmp_path / "images"),
        ],
    }[command]
    proc = subprocess.run(
        [sys.executable, "-m", "skewcheck", *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"skewcheck: error: cannot load model {model}"), proc.stderr
