"""Relative paths in a configuration file are read against the file's folder, not the working
directory: ``train = "training/input.py:preprocess"`` in ``repo/pyproject.toml`` names
``repo/training/input.py`` from wherever ``skewcheck`` runs."""

from __future__ import annotations

import re
from pathlib import Path

from skewcheck.config.options import CALLABLE_REF, MODEL_REF, PATH, PATH_OR_URI, PIPELINE_REF
from skewcheck.no_model import is_no_model

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _file(value: str, base: Path) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else base / path)


def _callable(value: str, base: Path) -> str:
    """``file.py:fn`` → ``/base/file.py:fn``; ``pkg.module:fn`` stays an import path."""
    target, sep, attr = value.rpartition(":")
    if sep and (target.endswith(".py") or "/" in target or "\\" in target):
        return f"{_file(target, base)}:{attr}"
    return value


def resolve(value: str, how: str, base: Path) -> str:
    """``value`` of an option whose paths are read as ``how`` (see skewcheck/config/options.py)."""
    if _URI.match(value):
        return value  # s3://, gs://, file:///, an endpoint URL
    if how in (PATH, PATH_OR_URI):
        return _file(value, base)
    if how == CALLABLE_REF:
        return _callable(value, base)
    if how == MODEL_REF and is_no_model(value):
        return value
    if how == PIPELINE_REF and value.startswith("tensors:"):
        return "tensors:" + _file(value[len("tensors:") :], base)
    if how == PIPELINE_REF and ".toml#" in value:
        file, _, name = value.rpartition("#")
        return f"{_file(file, base)}#{name}"
    if how in (PIPELINE_REF, MODEL_REF) and ":" in value:
        return _callable(value, base)
    return _file(value, base)  # golden.npz, spec.toml, model.keras, a SavedModel folder
