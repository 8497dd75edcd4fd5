"""Shared by the atheris harnesses: run a reader on fuzzed bytes; only UsageError may escape."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's skewcheck

from skewcheck.errors import UsageError  # noqa: E402

TMP = Path(tempfile.mkdtemp(prefix="skewcheck-atheris-"))


def write(name: str, data: bytes) -> Path:
    path = TMP / name
    path.write_bytes(data)
    return path


def main(reader: Callable[[bytes], object]) -> None:
    import atheris

    def one(data: bytes) -> None:
        try:
            reader(data)
        except UsageError:
            pass

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
